// Every shipped workload, tiny, against the peer allocator this test binary links (one binary per
// peer, as with the backends). Not built for the sanitizer configs (see bench.bzl: peer_test).
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "bench/allocator_registry.h"
#include "bench/peers/peer_contract_check.h"
#include "bench/peers/peer_resource.h"
#include "bench/runner.h"
#include "bench/trace.h"
#include "bench/trace_replay.h"
#include "bench/trace_workload.h"
#include "bench/usage_probe.h"
#include "bench/workload_config.h"

namespace allocbench::bench {
namespace {

TEST(Peer, EveryWorkloadFreesAllItAllocates) {
  const std::vector<allocator_entry> entries = backend_allocators({});
  ASSERT_EQ(entries.size(), 1u);
  for (const auto& file : std::filesystem::directory_iterator("configs/workloads")) {
    workload_config w = load_workload(file.path());
    if (w.pattern == workload_pattern::trace) {
      SCOPED_TRACE(file.path().string());
      std::unique_ptr<std::pmr::memory_resource> r = entries[0].make();
      const replay_result res = run_replay(*load_replay(w), *r, 1);
      EXPECT_GT(res.allocations, 0u);
      EXPECT_EQ(res.allocations, res.deallocations);
      continue;
    }
    w.ops_per_thread = 3000;
    run_settings settings;
    settings.repeat = false;
    settings.seconds = 0;
    settings.alignment = w.alignment;
    settings.queue_capacity = w.queue_capacity;
    for (int threads : {1, 3}) {
      SCOPED_TRACE(file.path().string() + " x " + std::to_string(threads));
      const std::vector<thread_trace> traces = generate_traces(w, threads);
      std::unique_ptr<std::pmr::memory_resource> r = entries[0].make();
      const run_result res = run_timed(traces, *r, settings);
      EXPECT_GT(res.allocations, 0u);
      EXPECT_EQ(res.total_allocations, res.total_deallocations);
    }
  }
}

TEST(Peer, HonoursAlignmentAndReportsUsableSize) {
  std::unique_ptr<std::pmr::memory_resource> r = backend_allocators({})[0].make();
  check_peer_contract(*r);
  if (::testing::Test::HasFatalFailure()) return;
  usage_probe probe(*dynamic_cast<peer_resource*>(r.get()));
  void* p = probe.allocate(100, 16);
  EXPECT_GE(probe.overhead_ratio(), 1.0);
  EXPECT_GE(probe.peak_live_bytes(), 100u);
  probe.deallocate(p, 100, 16);
}

}  // namespace
}  // namespace allocbench::bench
