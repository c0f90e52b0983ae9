// --key=value command-line flags, shared by the driver and the backends. A flag may repeat; list()
// also splits on commas, so --allocators=a,b and --allocators=a --allocators=b mean the same.
#pragma once

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/runner.h"
#include "bench/workload_config.h"

namespace allocbench::bench {

class cli_args {
 public:
  cli_args(int argc, char** argv);

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  std::string value(const std::string& key) const;  // the last one given; throws when absent
  std::string value_or(const std::string& key, const std::string& fallback) const;
  std::vector<std::string> list(const std::string& key) const;
  int integer_or(const std::string& key, int fallback) const;
  double number_or(const std::string& key, double fallback) const;

  // Throws std::invalid_argument naming a flag not in `known`.
  void reject_unknown(std::initializer_list<std::string_view> known) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// The body of a command-line program's main(): run(argc, argv)'s exit status, or 2 after printing
// "<program>: <what>" to stderr when it throws (a bad flag or config is a message, not a crash).
int run_main(const char* program, int (*run)(int, char**), int argc, char** argv);

// The environment variable's value, or `fallback` when it is unset or empty.
std::string env_or(const char* name, const std::string& fallback);

// A path the user typed, relative to where they ran `bazel run` (BUILD_WORKING_DIRECTORY), not to the
// runfiles directory a `bazel run` binary starts in.
std::string user_path(const std::string& p);

// Where results go: --out=DIR, else bench/results of the source tree (BUILD_WORKSPACE_DIRECTORY, or
// the current directory outside `bazel run`).
std::filesystem::path results_dir(const cli_args& args);

// --memory-budget-gib=G (a positive number of GiB) in bytes, or kDefaultMemoryBudget when absent.
std::uint64_t memory_budget(const cli_args& args);

// Applies --threads, --ops and --min-seconds to a workload and the timing of its runs: --ops=N runs
// each thread's trace of N ops once; --min-seconds=S repeats the trace for S seconds; neither leaves the
// workload's own ops_per_thread and min_seconds. The overridden workload must still fit
// memory_budget(args) (check_memory_budget's config_error otherwise).
void apply_run_overrides(const cli_args& args, workload_config& w, run_settings& timing);

}  // namespace allocbench::bench
