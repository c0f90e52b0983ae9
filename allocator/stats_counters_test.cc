#include "allocator/stats_counters.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace allocbench::detail {
namespace {

TEST(StatsCounters, SingleThreadFiguresAreExact) {
  stats_counters c;
  c.on_allocate(10, 16);
  c.on_allocate(100, 128);
  c.on_deallocate(10, 16);
  resource_stats s;
  c.fill(s);
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.deallocations, 1u);
  EXPECT_EQ(s.live_blocks, 1u);
  EXPECT_EQ(s.live_requested_bytes, 100u);
  EXPECT_EQ(s.live_usable_bytes, 128u);
  EXPECT_EQ(s.peak_live_bytes, 144u);
  EXPECT_EQ(s.total_requested_bytes, 110u);
  EXPECT_EQ(s.total_usable_bytes, 144u);
}

TEST(StatsCounters, PeakIsExactAcrossPublication) {
  stats_counters c;
  // Cross the publication threshold up and down several times: the peak stays exact on one thread.
  const std::size_t block = 40000;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) c.on_allocate(block, block);
    for (int i = 0; i < 5; ++i) c.on_deallocate(block, block);
  }
  c.on_allocate(block, block);
  resource_stats s;
  c.fill(s);
  EXPECT_EQ(s.peak_live_bytes, 5 * block);
  EXPECT_EQ(s.live_bytes, block);
}

TEST(StatsCounters, ThreadsSumOnRead) {
  stats_counters c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.on_allocate(8, 8);
      for (int i = 0; i < 10000; ++i) c.on_deallocate(8, 8);
    });
  }
  for (auto& t : threads) t.join();
  resource_stats s;
  c.fill(s);
  EXPECT_EQ(s.allocations, 80000u);
  EXPECT_EQ(s.deallocations, 80000u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_GE(s.peak_live_bytes, 80000u);  // at least one thread's whole live set
}

TEST(StatsCounters, UpstreamHeldAndPeak) {
  stats_counters c;
  c.on_upstream_acquire(4096);
  c.on_upstream_acquire(8192);
  c.on_upstream_release(4096);
  resource_stats s;
  c.fill(s);
  EXPECT_EQ(s.bytes_held, 8192u);
  EXPECT_EQ(s.peak_bytes_held, 12288u);
}

TEST(StatsCounters, ForgetLiveZeroesLiveFigures) {
  stats_counters c;
  c.on_allocate(10, 16);
  c.forget_live();
  resource_stats s;
  c.fill(s);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.allocations, 1u);
  EXPECT_EQ(s.peak_live_bytes, 16u);
}

}  // namespace
}  // namespace allocbench::detail
