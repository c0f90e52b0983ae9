#include "bench/trace_backend.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "bench/backend_runner.h"
#include "bench/peers/peer_resource.h"
#include "bench/process_memory.h"
#include "bench/trace_replay.h"
#include "bench/trace_workload.h"
#include "bench/usage_probe.h"
#include "pmr/instrumented_resource.h"

namespace allocbench::bench {
namespace {

nlohmann::json one_replay(const allocator_entry& e, const trace::resolved_trace& t, std::size_t passes, int rep) {
  // What earlier runs left free in glibc's heap (ours and the std pools draw from it) goes back to the
  // system first, so that this run's growth of RSS is its own.
  malloc_trim(0);
  std::unique_ptr<std::pmr::memory_resource> resource = e.make();
  const bool per_run_rss = reset_peak_rss();
  const std::uint64_t before_kib = peak_rss_kib();  // right after the reset: the current RSS
  const replay_result r = run_replay(t, *resource, passes);
  const std::uint64_t peak_kib = peak_rss_kib();
  run_result calls;  // a replay frees everything it allocates, so its totals are its counts
  calls.threads = r.threads;
  calls.seconds = r.seconds;
  calls.allocations = calls.total_allocations = r.allocations;
  calls.deallocations = calls.total_deallocations = r.deallocations;
  calls.allocate = r.allocate;
  calls.deallocate = r.deallocate;
  nlohmann::json j = run_record(e, calls, rep, peak_kib, per_run_rss);
  nlohmann::json tr = {{"passes", passes},
                       {"reallocs", r.reallocs},
                       {"remote_waits", r.remote_waits},
                       {"ideal_peak_bytes", t.peak_live_bytes},
                       {"held_peak_bytes", (peak_kib > before_kib ? peak_kib - before_kib : 0) * 1024},
                       {"calls_ns",
                        {{"p50", r.calls.p50_ns},
                         {"p90", r.calls.p90_ns},
                         {"p99", r.calls.p99_ns},
                         {"p999", r.calls.p999_ns},
                         {"max", r.calls.max_ns},
                         {"samples", r.calls.samples},
                         {"log2_histogram", r.calls.log2_ns}}}};
  bool consistent = r.allocations == r.deallocations;
  if (auto* ours = dynamic_cast<const instrumented_resource*>(resource.get())) {
    const resource_stats s = ours->stats();
    j["overhead_ratio"] = s.overhead_ratio();
    j["peak_live_bytes"] = s.peak_live_bytes;
    j["contention_events"] = s.contention_events;
    tr["stats_peak_bytes_held"] = s.peak_bytes_held;
    consistent = consistent && s.live_blocks == 0 && s.live_bytes == 0 && s.allocations == s.deallocations &&
                 s.allocations == r.allocations;
  }
  j["consistent"] = consistent;
  j["trace"] = std::move(tr);
  return j;
}

}  // namespace

nlohmann::json run_trace_backend(const backend_request& request, const std::vector<allocator_entry>& entries) {
  const workload_config& w = request.workload;
  const std::shared_ptr<const trace::resolved_trace> t = load_replay(w);
  const int threads = int(t->threads.size());
  if (request.threads != std::vector<int>{threads}) {
    throw std::invalid_argument(w.source + ": a trace replays its own " + std::to_string(threads) +
                                " thread(s); --threads does not apply");
  }
  std::vector<const allocator_entry*> chosen;
  for (const allocator_entry& e : entries) {
    if (e.single_thread_only && threads > 1) continue;
    if (request.allocators.empty() ||
        std::find(request.allocators.begin(), request.allocators.end(), e.name) != request.allocators.end()) {
      chosen.push_back(&e);
    }
  }
  nlohmann::json runs = nlohmann::json::array();
  nlohmann::json measures = nlohmann::json::array();
  for (int rep = 1; rep <= request.reps; ++rep) {
    for (const allocator_entry* e : chosen) {
      nlohmann::json run = one_replay(*e, *t, w.trace_passes, rep);
      if (request.progress) {
        std::fprintf(stderr, "[%s] %-24s threads=%-3d rep %d/%d: %8.2f Mops/s  (%.3f s)%s\n", w.name.c_str(),
                     e->name.c_str(), threads, rep, request.reps, run["mops"].get<double>(),
                     run["seconds"].get<double>(), run["consistent"].get<bool>() ? "" : "  INCONSISTENT COUNTS");
      }
      runs.push_back(std::move(run));
    }
  }
  // Peers: overhead and peak live bytes from their usable-size call, in an untimed replay.
  for (const allocator_entry* e : chosen) {
    std::unique_ptr<std::pmr::memory_resource> resource = e->make();
    if (auto* peer = dynamic_cast<peer_resource*>(resource.get())) {
      usage_probe probe(*peer);
      run_replay(*t, probe, 1);
      measures.push_back({{"allocator", e->name},
                          {"threads", threads},
                          {"overhead_ratio", probe.overhead_ratio()},
                          {"peak_live_bytes", probe.peak_live_bytes()}});
    }
  }
  return {{"runs", runs}, {"measures", measures}};
}

}  // namespace allocbench::bench
