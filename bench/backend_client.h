// Starts backend processes (one per peer library, found through Bazel's runfiles) and reads what they
// print. Their stderr is the driver's, so their progress lines show as they happen.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/runfile_path.h"  // runfile(), which the driver uses with the backends

namespace allocbench::bench {

struct backend_binary {
  std::string name;  // "ours_glibc_std", "jemalloc", ...
  std::string path;  // the executable
  std::vector<std::string> allocators;  // what `--list` printed
};

// The backends in their fixed order (ours first), with the allocators each offers. `argv0` locates
// the runfiles; `layouts` are passed on, since they add allocators to the ours backend.
std::vector<backend_binary> find_backends(const char* argv0, const std::vector<std::string>& layouts);

// Runs a backend with `args` and parses the JSON it prints; throws std::runtime_error when it fails.
nlohmann::json run_backend_process(const backend_binary& b, const std::vector<std::string>& args);

}  // namespace allocbench::bench
