#include "bench/cli_args.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>

#include "bench/workload_memory.h"

namespace allocbench::bench {

cli_args::cli_args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + a + "' (flags are --key=value)");
    const std::size_t eq = a.find('=');
    const std::string key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    values_[key].push_back(eq == std::string::npos ? "" : a.substr(eq + 1));
  }
}

std::string cli_args::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::invalid_argument("missing flag --" + key);
  return it->second.back();
}

std::string cli_args::value_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? value(key) : fallback;
}

std::vector<std::string> cli_args::list(const std::string& key) const {
  std::vector<std::string> out;
  auto it = values_.find(key);
  if (it == values_.end()) return out;
  for (const std::string& v : it->second) {
    std::size_t start = 0;
    while (start <= v.size()) {
      const std::size_t comma = v.find(',', start);
      const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

int cli_args::integer_or(const std::string& key, int fallback) const {
  if (!has(key)) return fallback;
  const std::string v = value(key);
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty()) throw std::invalid_argument("--" + key + " must be an integer, got '" + v + "'");
  return n;
}

double cli_args::number_or(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  const std::string v = value(key);
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty()) throw std::invalid_argument("--" + key + " must be a number, got '" + v + "'");
  return x;
}

void cli_args::reject_unknown(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, unused] : values_) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "--" : ", --") + std::string(k);
      throw std::invalid_argument("unknown flag --" + key + " (known: " + list + ")");
    }
  }
}

std::uint64_t memory_budget(const cli_args& args) {
  if (!args.has("memory-budget-gib")) return kDefaultMemoryBudget;
  const double gib = args.number_or("memory-budget-gib", 0);
  if (!(gib > 0 && gib <= 1 << 20)) throw std::invalid_argument("--memory-budget-gib must be in (0, 1048576]");
  return std::uint64_t(gib * double(std::uint64_t{1} << 30));
}

namespace {

void apply_overrides(const cli_args& args, workload_config& w, run_settings& timing) {
  if (args.has("threads")) {
    w.threads.clear();
    for (const std::string& t : args.list("threads")) {
      std::size_t used = 0;
      int n = 0;
      try {
        n = std::stoi(t, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != t.size() || n < 1 || n > 256) throw std::invalid_argument("--threads: each must be 1..256, got '" + t + "'");
      w.threads.push_back(n);
    }
    if (w.threads.empty()) throw std::invalid_argument("--threads: empty list");
  }
  if (args.has("ops") && args.has("min-seconds")) throw std::invalid_argument("give --ops or --min-seconds, not both");
  if (args.has("ops")) {
    const int ops = args.integer_or("ops", 0);
    if (ops < 1) throw std::invalid_argument("--ops must be at least 1");
    w.ops_per_thread = std::size_t(ops);
    timing.repeat = false;
    timing.seconds = 0;
    return;
  }
  const double s = args.number_or("min-seconds", w.min_seconds);
  if (!(s >= 0 && s <= 3600)) throw std::invalid_argument("--min-seconds must be in [0, 3600]");
  timing.repeat = s > 0;
  timing.seconds = s;
}

}  // namespace

void apply_run_overrides(const cli_args& args, workload_config& w, run_settings& timing) {
  apply_overrides(args, w, timing);
  // More threads or ops than the file says need more memory: checked again before anything runs.
  check_memory_budget(w, memory_budget(args));
}

int run_main(const char* program, int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  }
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string user_path(const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(env_or("BUILD_WORKING_DIRECTORY", ".")) / p).string();
}

std::filesystem::path results_dir(const cli_args& args) {
  if (args.has("out")) return user_path(args.value("out"));
  return std::filesystem::path(env_or("BUILD_WORKSPACE_DIRECTORY", ".")) / "bench" / "results";
}

}  // namespace allocbench::bench
