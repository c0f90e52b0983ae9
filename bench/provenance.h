// Where a result came from: commit, compiler, Bazel, allocator library versions, machine, date and the
// exact configs used. Written into every result file.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/workload_config.h"

namespace allocbench::bench {

// `workspace`: the source tree (BUILD_WORKSPACE_DIRECTORY) or "" when unknown; `backend_outputs`
// supply the library versions the peers' headers report; `layouts` are --layout files.
nlohmann::json collect_provenance(const std::string& workspace, const workload_config& workload,
                                  const std::vector<nlohmann::json>& backend_outputs,
                                  const std::vector<std::string>& layouts);

}  // namespace allocbench::bench
