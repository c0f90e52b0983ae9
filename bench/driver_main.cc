// The benchmark driver behind `bazel run //bench:<workload>` (and //bench:all): validates every config
// first, then starts one backend process per peer library (backend_main.cc), prints their progress
// and a results table, and writes bench/results/<workload>.{csv,json} (+ .png when matplotlib exists).
//
// Flags: --allocators=a,b  --threads=1,2  --ops=N | --min-seconds=S  --reps=N  --out=DIR
//        --layout=file.json (repeatable)  --no-plot
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string_view>

#include "bench/allocator_choice.h"
#include "bench/backend_client.h"
#include "bench/cli_args.h"
#include "bench/provenance.h"
#include "bench/result_writers.h"
#include "bench/results.h"
#include "bench/trace_table.h"
#include "bench/trace_workload.h"
#include "bench/workload_config.h"
#include "pmr/presets.h"

namespace ab = allocbench::bench;
namespace fs = std::filesystem;

namespace {

using ab::env_or;
using ab::user_path;

// --workload=NAME (a file of configs/workloads/), --workload=all, or --workload=path/to/file.json.
std::vector<std::string> workload_files(const char* argv0, const std::string& which) {
  if (which.size() > 5 && which.substr(which.size() - 5) == ".json") return {user_path(which)};
  const std::string first = ab::runfile(argv0, "configs/workloads/rl_small.json");
  if (which != "all") return {ab::runfile(argv0, "configs/workloads/" + which + ".json")};
  std::vector<std::string> files;
  for (const fs::directory_entry& e : fs::directory_iterator(fs::path(first).parent_path())) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void plot(const std::string& workspace, const fs::path& json, const fs::path& png) {
  const std::string script = (fs::path(workspace.empty() ? "." : workspace) / "tools/plot_results.py").string();
  if (access("/usr/bin/python3", X_OK) != 0 || std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "plot skipped: /usr/bin/python3 with matplotlib not found (apt-get install python3-matplotlib)\n");
    return;
  }
  if (!fs::exists(script)) {
    std::fprintf(stderr, "plot skipped: %s not found\n", script.c_str());
    return;
  }
  const std::string cmd = "MPLCONFIGDIR=\"${TMPDIR:-/tmp}/allocbench-mpl\" /usr/bin/python3 '" + script + "' '" +
                          json.string() + "' '" + png.string() + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "plot failed: %s\n", cmd.c_str());
}

constexpr const char* kUsage =
    "usage: bazel run //bench:<workload> -- [flags]     (or //bench:all for every workload)\n"
    "  --allocators=a,b     allocators to run (default: all; an unknown name lists the known ones)\n"
    "  --threads=1,2,4      thread counts (default: the workload's \"threads\")\n"
    "  --ops=N              one pass of N ops per thread, instead of repeating the trace\n"
    "  --min-seconds=S      repeat each thread's trace for S seconds per run (default: the workload's)\n"
    "  --reps=N             repetitions, allocators interleaved; medians reported (default 3)\n"
    "  --out=DIR            where <workload>.csv/.json/.png go (default: bench/results)\n"
    "  --layout=FILE.json   also run a resource layout of your own (repeatable)\n"
    "  --no-plot            skip the PNG\n"
    "  --memory-budget-gib=G  the most memory a workload may need, checked before it runs (default 8)\n"
    "  --workload=NAME|FILE the workload (set by each //bench:<workload> target)\n"
    "  --trace=FILE.abt     replay a recorded trace (//bench:replay; see tools/record)\n";

int run(int argc, char** argv) {
  const auto started = std::chrono::steady_clock::now();
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  const ab::cli_args args(argc, argv);
  args.reject_unknown({"workload", "trace", "allocators", "threads", "ops", "min-seconds", "reps", "out", "layout", "no-plot", "memory-budget-gib"});
  const std::string workspace = env_or("BUILD_WORKSPACE_DIRECTORY", "");
  std::vector<std::string> layouts;
  for (const std::string& l : args.list("layout")) layouts.push_back(user_path(l));
  const int reps = args.integer_or("reps", 3);
  if (reps < 1 || reps > 1000) throw std::invalid_argument("--reps must be 1..1000");

  const fs::path out_dir = ab::results_dir(args);
  fs::create_directories(out_dir);

  // Everything is checked before the first run: a bad config must not surface an hour in.
  std::vector<ab::workload_config> workloads;
  // --trace=FILE.abt (//bench:replay): a trace workload written for it beside the results.
  const std::vector<std::string> files =
      args.has("trace") ? std::vector<std::string>{ab::write_trace_workload(user_path(args.value("trace")), out_dir)}
                        : workload_files(argv[0], args.value("workload"));
  for (const std::string& f : files) {
    ab::workload_config w = ab::load_workload(f, ab::memory_budget(args));
    ab::run_settings unused;
    ab::apply_run_overrides(args, w, unused);
    workloads.push_back(std::move(w));
  }
  for (const std::string& l : layouts) allocbench::load_resource(l);

  const std::vector<ab::backend_binary> backends = ab::find_backends(argv[0], layouts);
  std::vector<std::string> known;
  for (const ab::backend_binary& b : backends) known.insert(known.end(), b.allocators.begin(), b.allocators.end());
  const std::vector<std::string> chosen = ab::choose_allocators(args.list("allocators"), known);

  for (const ab::workload_config& w : workloads) {
    std::string threads;
    for (int t : w.threads) threads += (threads.empty() ? "" : ",") + std::to_string(t);
    std::vector<std::string> common = {"--workload=" + w.source, "--threads=" + threads, "--reps=" + std::to_string(reps)};
    if (args.has("ops")) common.push_back("--ops=" + args.value("ops"));
    if (args.has("min-seconds")) common.push_back("--min-seconds=" + args.value("min-seconds"));
    if (args.has("memory-budget-gib")) common.push_back("--memory-budget-gib=" + args.value("memory-budget-gib"));
    for (const std::string& l : layouts) common.push_back("--layout=" + l);
    std::fprintf(stderr, "== %s: threads %s, %d rep(s), %s\n", w.name.c_str(), threads.c_str(), reps,
                 args.has("ops") ? ("--ops=" + args.value("ops")).c_str()
                                 : ("repeating the trace for " + std::to_string(args.number_or("min-seconds", w.min_seconds)) + " s per run").c_str());

    std::vector<nlohmann::json> outputs;
    for (const ab::backend_binary& b : backends) {
      std::string mine;
      for (const std::string& a : b.allocators) {
        if (std::find(chosen.begin(), chosen.end(), a) != chosen.end()) mine += (mine.empty() ? "" : ",") + a;
      }
      if (mine.empty()) continue;
      std::vector<std::string> a = common;
      a.push_back("--allocators=" + mine);
      outputs.push_back(ab::run_backend_process(b, a));
    }

    const std::vector<ab::summary_row> rows = ab::summarize(outputs);
    ab::write_table(std::cout, w.name, rows);
    if (w.pattern == ab::workload_pattern::trace) ab::write_trace_table(std::cout, w.name, outputs);
    const nlohmann::json provenance = ab::collect_provenance(workspace, w, outputs, layouts);
    const nlohmann::json settings = {{"threads", w.threads},
                                     {"reps", reps},
                                     {"ops_per_thread", w.ops_per_thread},
                                     {"mode", args.has("ops") ? "one pass of --ops per thread" : "trace repeated"},
                                     {"seconds_per_run", args.has("ops") ? 0.0 : args.number_or("min-seconds", w.min_seconds)},
                                     {"allocators", chosen},
                                     {"note", "traces are pre-generated; the origin report drew random numbers "
                                              "inside its timed loop, so its throughput includes the generator"}};
    const fs::path base = out_dir / w.name;
    ab::write_csv(base.string() + ".csv", provenance, rows);
    ab::write_json(base.string() + ".json", provenance, settings, rows, outputs);
    std::cout << "wrote " << base.string() << ".csv and .json\n";
    if (!args.has("no-plot")) {
      plot(workspace, base.string() + ".json", base.string() + ".png");
      if (fs::exists(base.string() + ".png")) std::cout << "wrote " << base.string() << ".png\n";
    }
    std::cout.flush();
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "done in %.1f s\n", elapsed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ab::run_main("allocbench", run, argc, argv); }
