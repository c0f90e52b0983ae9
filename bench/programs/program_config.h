// A real program for //bench:programs, as described by one file of configs/programs/:
//
//   { "name": "sqlite_index",                         required: [a-z0-9_]+, the results' row name
//     "description": "...",                           optional
//     "package": "sqlite3",                           optional: the Debian package, for provenance
//     "command": ["/usr/bin/sqlite3", ":memory:", ".read {input}/workload.sql"],
//                                                     required, non-empty; argv of the timed run
//     "env": {"PYTHONMALLOC": "malloc"},              optional: added to the child's environment
//     "input": [ {"copy": "workload.sql"},            optional: steps run once, in order, in the
//                {"run": ["/usr/bin/python3", ...]} ]  input directory, before anything is timed
//     "output": {"stdout": true, "files": ["a.out"]}, optional ({"stdout": true}): what must be
//                                                     identical to glibc's run
//     "timeout_seconds": 120 }                        optional (120): a run past it is killed
//
// In "command", "env" values and "run" arguments, {input} is the input directory, {config_dir} the
// directory of the config file, and {runfile:PATH} a file of this workspace found in Bazel's runfiles
// (a binary built here, e.g. {runfile:bench/stress/larson}). "copy" names a file relative to the
// config file. The timed run's working directory is a fresh, empty directory; "files" are relative to it.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace allocbench::bench::programs {

struct input_step {
  enum class kind { copy, run };
  kind type = kind::copy;
  std::string copy_from;           // copy: path relative to the config's directory
  std::vector<std::string> argv;   // run: the command (placeholders allowed)
};

struct output_spec {
  bool stdout_checked = true;
  std::vector<std::string> files;  // relative to the run directory
};

struct program_config {
  std::string name;
  std::string description;
  std::string package;
  std::string source;  // the file it came from
  std::vector<std::string> command;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<input_step> input;
  output_spec output;
  double timeout_seconds = 120;
  nlohmann::json raw;  // the file's JSON, for provenance
};

// Parses one file; a bad file throws config_error naming the file, the field and the reason.
program_config parse_program(const nlohmann::json& doc, const std::string& source);
program_config load_program(const std::filesystem::path& file);

// Every *.json of `dir`, sorted by file name; names must be unique (config_error otherwise).
std::vector<program_config> load_program_dir(const std::filesystem::path& dir);

// Replaces {input}, {config_dir} and {runfile:PATH} in `text`. `runfile` maps a workspace path to its
// runfiles location. An unknown {...} placeholder throws config_error naming `file` and `field`.
using runfile_lookup = std::function<std::string(const std::string& workspace_path)>;
std::string expand_placeholders(const std::string& text, const std::filesystem::path& input_dir,
                                const std::filesystem::path& config_dir, const runfile_lookup& runfile,
                                const std::string& file, const std::string& field);

}  // namespace allocbench::bench::programs
