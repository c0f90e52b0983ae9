#include "bench/backend_runner.h"

#include <algorithm>
#include <cstdio>

#include "bench/peers/peer_resource.h"
#include "bench/process_memory.h"
#include "bench/trace_backend.h"
#include "bench/trace.h"
#include "bench/usage_probe.h"
#include "pmr/instrumented_resource.h"

namespace allocbench::bench {
nlohmann::json latency_json(const latency_summary& s) {
  return {{"p50", s.p50_ns}, {"p99", s.p99_ns}, {"p999", s.p999_ns}, {"samples", s.samples}};
}

nlohmann::json run_record(const allocator_entry& e, const run_result& r, int rep, std::uint64_t peak_rss_kib,
                          bool peak_rss_per_run) {
  return {{"allocator", e.name},
          {"family", e.family},
          {"threads", r.threads},
          {"rep", rep},
          {"seconds", r.seconds},
          {"allocations", r.allocations},
          {"deallocations", r.deallocations},
          {"total_allocations", r.total_allocations},
          {"total_deallocations", r.total_deallocations},
          {"mops", r.mops()},
          {"allocate_ns", latency_json(r.allocate)},
          {"deallocate_ns", latency_json(r.deallocate)},
          {"peak_rss_kib", peak_rss_kib},
          {"peak_rss_per_run", peak_rss_per_run}};
}

namespace {

nlohmann::json one_run(const allocator_entry& e, const std::vector<thread_trace>& traces,
                       const run_settings& settings, int rep) {
  std::unique_ptr<std::pmr::memory_resource> resource = e.make();
  const bool per_run_rss = reset_peak_rss();
  const run_result r = run_timed(traces, *resource, settings);
  nlohmann::json j = run_record(e, r, rep, peak_rss_kib(), per_run_rss);
  bool consistent = r.total_allocations == r.total_deallocations;
  if (auto* ours = dynamic_cast<const instrumented_resource*>(resource.get())) {
    const resource_stats s = ours->stats();
    j["overhead_ratio"] = s.overhead_ratio();
    j["peak_live_bytes"] = s.peak_live_bytes;
    j["contention_events"] = s.contention_events;
    // Upstream bytes: the most held during the run, and what is still held with everything freed.
    j["peak_bytes_held"] = s.peak_bytes_held;
    j["bytes_held"] = s.bytes_held;
    consistent = consistent && s.live_blocks == 0 && s.live_bytes == 0 && s.allocations == s.deallocations;
  }
  j["consistent"] = consistent;
  return j;
}

// One untimed pass through the usable-size probe: a single pass, cut off after a quarter second so
// that a slow allocator at many threads does not stall the whole benchmark.
nlohmann::json one_measure(peer_resource& peer, const allocator_entry& e, const std::vector<thread_trace>& traces,
                           run_settings settings) {
  usage_probe probe(peer);
  settings.repeat = false;
  settings.seconds = 0.25;
  run_timed(traces, probe, settings);
  return {{"allocator", e.name},
          {"threads", int(traces.size())},
          {"overhead_ratio", probe.overhead_ratio()},
          {"peak_live_bytes", probe.peak_live_bytes()}};
}

}  // namespace

nlohmann::json run_backend(const backend_request& request, const std::vector<allocator_entry>& entries) {
  if (request.workload.pattern == workload_pattern::trace) return run_trace_backend(request, entries);
  std::vector<const allocator_entry*> chosen;
  for (const allocator_entry& e : entries) {
    if (request.allocators.empty() ||
        std::find(request.allocators.begin(), request.allocators.end(), e.name) != request.allocators.end()) {
      chosen.push_back(&e);
    }
  }
  run_settings settings = request.timing;
  settings.alignment = request.workload.alignment;
  settings.queue_capacity = request.workload.queue_capacity;

  nlohmann::json runs = nlohmann::json::array();
  nlohmann::json measures = nlohmann::json::array();
  for (int threads : request.threads) {
    // Generated once per thread count and shared by every allocator and repetition.
    const std::vector<thread_trace> traces = generate_traces(request.workload, threads);
    for (int rep = 1; rep <= request.reps; ++rep) {
      for (const allocator_entry* e : chosen) {
        if (e->single_thread_only && threads > 1) continue;
        nlohmann::json run = one_run(*e, traces, settings, rep);
        if (request.progress) {
          std::fprintf(stderr, "[%s] %-24s threads=%-3d rep %d/%d: %8.2f Mops/s  (%.2f s)%s\n",
                       request.workload.name.c_str(), e->name.c_str(), threads, rep, request.reps,
                       run["mops"].get<double>(), run["seconds"].get<double>(),
                       run["consistent"].get<bool>() ? "" : "  INCONSISTENT COUNTS");
        }
        runs.push_back(std::move(run));
      }
    }
    for (const allocator_entry* e : chosen) {
      if (e->single_thread_only && threads > 1) continue;
      std::unique_ptr<std::pmr::memory_resource> resource = e->make();
      if (auto* peer = dynamic_cast<peer_resource*>(resource.get())) {
        measures.push_back(one_measure(*peer, *e, traces, settings));
      }
    }
  }
  return {{"runs", runs}, {"measures", measures}};
}

}  // namespace allocbench::bench
