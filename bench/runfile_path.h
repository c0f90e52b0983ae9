// Where a file of this workspace lies in Bazel's runfiles, for binaries started by `bazel run` or
// `bazel test` (the benchmark driver, //bench:programs and their tests).
#pragma once

#include <string>

namespace allocbench::bench {

// The runfiles path of a file of this workspace (e.g. "configs/workloads/rl_small.json"); throws
// std::runtime_error when there are no runfiles (the binary was not started by Bazel).
std::string runfile(const char* argv0, const std::string& workspace_relative);

}  // namespace allocbench::bench
