// Where a result came from: commit, compiler, Bazel, allocator library versions, machine, date and the
// exact configs used. Written into every result file.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/workload_config.h"

namespace allocbench::bench {

// What every result file of this project carries: commit (`-dirty` when tracked files changed),
// version, compiler, Bazel, the allocator libraries' Debian versions, CPU, cores, kernel and date.
// `workspace`: the source tree (BUILD_WORKSPACE_DIRECTORY) or "" when unknown.
nlohmann::json collect_machine_provenance(const std::string& workspace);

// A Debian package's installed version (dpkg), "" when it is not installed.
std::string installed_version(const std::string& package);

// The above plus a workload's own: `workspace`: the source tree (BUILD_WORKSPACE_DIRECTORY) or "" when unknown; `backend_outputs`
// supply the library versions the peers' headers report; `layouts` are --layout files.
nlohmann::json collect_provenance(const std::string& workspace, const workload_config& workload,
                                  const std::vector<nlohmann::json>& backend_outputs,
                                  const std::vector<std::string>& layouts);

}  // namespace allocbench::bench
