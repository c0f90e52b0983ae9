// What a backend process does for a "trace" workload: resolve the trace once, then replay it against
// every allocator of this backend, repetitions interleaved, as run_backend does for generated traces.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "bench/allocator_registry.h"
#include "bench/backend_runner.h"

namespace allocbench::bench {

// The same document as run_backend ({"runs": [...], "measures": [...]}); each run carries a "trace"
// object: held_peak_bytes (growth of the process's peak RSS during the run), stats_peak_bytes_held
// (ours: bytes held from upstream), ideal_peak_bytes (the trace's peak of live requested bytes),
// calls_ns (time-per-call distribution), remote_waits.
nlohmann::json run_trace_backend(const backend_request& request, const std::vector<allocator_entry>& entries);

}  // namespace allocbench::bench
