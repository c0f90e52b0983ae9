// What a backend process does for one workload: for each thread count, generate the traces once, then
// run every allocator, repetitions interleaved (rep 1 of every allocator, then rep 2, ...), so that
// slow drift of the machine spreads over all allocators alike. Results come back as JSON records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/allocator_registry.h"
#include "bench/runner.h"
#include "bench/workload_config.h"

namespace allocbench::bench {

struct backend_request {
  workload_config workload;
  std::vector<int> threads;
  int reps = 3;
  run_settings timing;                  // repeat/seconds; alignment and queue come from the workload
  std::vector<std::string> allocators;  // names to run; empty runs all of this backend's
  bool progress = true;                 // one line per allocator x threads x rep on stderr
};

// {"runs": [...], "measures": [...]}: one run record per allocator x threads x rep, and for each peer
// with a usable-size call one untimed measuring record per thread count (see usage_probe.h).
nlohmann::json run_backend(const backend_request& request, const std::vector<allocator_entry>& entries);

// {"p50", "p99", "p999", "samples"}: a latency summary as the run records carry it.
nlohmann::json latency_json(const latency_summary& s);

// The fields every run record has, whichever backend ran it (bench/results.cc reads them back):
// allocator, family, threads, rep, seconds, call counts, mops, latencies and peak RSS.
nlohmann::json run_record(const allocator_entry& e, const run_result& r, int rep, std::uint64_t peak_rss_kib,
                          bool peak_rss_per_run);

}  // namespace allocbench::bench
