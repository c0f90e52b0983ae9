// Parsing of configs/programs/*.json (schema in program_config.h): every field is checked here, so a
// bad file fails with file, field and reason before any program runs.
#include "bench/programs/program_config.h"

#include <algorithm>
#include <map>

#include "pmr/config_error.h"
#include "pmr/json_fields.h"

namespace allocbench::bench::programs {
namespace {

std::string indexed(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

// A non-empty array of non-empty strings (an argv).
std::vector<std::string> parse_argv(const json_fields& f, std::string_view key) {
  const nlohmann::json& a = f.array(key);
  if (a.empty()) f.fail(key, "must not be empty (it is the program and its arguments)");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string() || a[i].get_ref<const std::string&>().empty()) {
      throw config_error(f.file(), indexed(f.field_path(key), i),
                         "must be a non-empty string, got " + json_fields::describe(a[i]));
    }
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

bool valid_name(const std::string& n) {
  return !n.empty() && std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A relative path that stays below its directory: no absolute path, no "..".
bool stays_inside(const std::string& p) {
  const std::filesystem::path path(p);
  if (p.empty() || path.is_absolute()) return false;
  return std::none_of(path.begin(), path.end(), [](const std::filesystem::path& part) { return part == ".."; });
}

input_step parse_step(const json_fields& s) {
  s.reject_unknown({"copy", "run"});
  if (s.has("copy") == s.has("run")) s.fail("must have exactly one of \"copy\" (a file) or \"run\" (a command)");
  input_step step;
  if (s.has("copy")) {
    step.type = input_step::kind::copy;
    step.copy_from = s.string("copy");
    if (!stays_inside(step.copy_from)) s.fail("copy", "must be a path relative to the config's directory, without ..");
  } else {
    step.type = input_step::kind::run;
    step.argv = parse_argv(s, "run");
  }
  return step;
}

output_spec parse_output(const json_fields& o) {
  o.reject_unknown({"stdout", "files"});
  output_spec spec;
  spec.stdout_checked = o.boolean_or("stdout", true);
  if (o.has("files")) {
    const nlohmann::json& a = o.array("files");
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string() || !stays_inside(a[i].get<std::string>())) {
        throw config_error(o.file(), indexed(o.field_path("files"), i),
                           "must be a path relative to the run directory, without .., got " +
                               json_fields::describe(a[i]));
      }
      spec.files.push_back(a[i].get<std::string>());
    }
  }
  if (!spec.stdout_checked && spec.files.empty()) {
    o.fail("checks nothing: set \"stdout\": true or name \"files\" (an unchecked output cannot catch a wrong result)");
  }
  return spec;
}

// Expands every placeholder once with dummy values, so that a typo fails now and not after the runs.
void check_placeholders(const program_config& p) {
  const runfile_lookup none = [](const std::string&) { return std::string(); };
  auto check = [&](const std::string& text, const std::string& field) {
    expand_placeholders(text, "", "", none, p.source, field);
  };
  for (std::size_t i = 0; i < p.command.size(); ++i) check(p.command[i], indexed("command", i));
  for (const auto& [key, value] : p.env) check(value, "env." + key);
  for (std::size_t s = 0; s < p.input.size(); ++s) {
    for (std::size_t i = 0; i < p.input[s].argv.size(); ++i) {
      check(p.input[s].argv[i], indexed(indexed("input", s) + ".run", i));
    }
  }
}

}  // namespace

program_config parse_program(const nlohmann::json& doc, const std::string& source) {
  check_json_depth(doc, source);
  const json_fields f(doc, source);
  f.reject_unknown({"name", "description", "package", "command", "env", "input", "output", "timeout_seconds"});
  program_config p;
  p.source = source;
  p.raw = doc;
  p.name = f.string("name");
  if (!valid_name(p.name)) f.fail("name", "must be lower-case letters, digits and '_', got '" + p.name + "'");
  p.description = f.string_or("description", "");
  p.package = f.string_or("package", "");
  p.command = parse_argv(f, "command");
  if (f.has("env")) {
    const json_fields env = f.object("env");
    for (const auto& [key, value] : env.node().items()) {
      if (key.empty() || key.find('=') != std::string::npos) env.fail(key, "is not a valid variable name");
      if (key == "LD_PRELOAD") env.fail(key, "is set by the runner for each allocator; a program may not set it");
      p.env.emplace_back(key, env.string(key));
    }
  }
  if (f.has("input")) {
    const nlohmann::json& steps = f.array("input");
    for (std::size_t i = 0; i < steps.size(); ++i) p.input.push_back(parse_step(f.element("input", i)));
  }
  if (f.has("output")) p.output = parse_output(f.object("output"));
  check_placeholders(p);
  p.timeout_seconds = f.number_or("timeout_seconds", 120);
  if (!(p.timeout_seconds > 0 && p.timeout_seconds <= 3600)) {
    f.fail("timeout_seconds", "must be in (0, 3600] seconds");
  }
  return p;
}

program_config load_program(const std::filesystem::path& file) {
  return parse_program(read_json_file(file), file.string());
}

std::vector<program_config> load_program_dir(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<program_config> out;
  std::map<std::string, std::string> seen;
  for (const auto& file : files) {
    program_config p = load_program(file);
    if (auto [it, fresh] = seen.emplace(p.name, p.source); !fresh) {
      throw config_error(p.source, "name", "'" + p.name + "' is also the name in " + it->second);
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::string expand_placeholders(const std::string& text, const std::filesystem::path& input_dir,
                                const std::filesystem::path& config_dir, const runfile_lookup& runfile,
                                const std::string& file, const std::string& field) {
  static constexpr std::string_view kRunfile = "runfile:";
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('{', pos);
    const std::size_t close = open == std::string::npos ? open : text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    const std::string key = text.substr(open + 1, close - open - 1);
    if (key == "input") {
      out += input_dir.string();
    } else if (key == "config_dir") {
      out += config_dir.string();
    } else if (key.rfind(kRunfile, 0) == 0 && key.size() > kRunfile.size()) {
      out += runfile(key.substr(kRunfile.size()));
    } else {
      throw config_error(file, field,
                         "unknown placeholder {" + key + "} (known: {input}, {config_dir}, {runfile:PATH})");
    }
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace allocbench::bench::programs
