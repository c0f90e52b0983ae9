#include "allocator/scalable_heap.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

TEST(ScalableHeap, FastPathServesOnceTheThreadHasACache) {
  test_upstream up;
  stats_counters counters;
  scalable_heap heap({}, up, counters);
  EXPECT_EQ(heap.try_allocate(64, 16), nullptr);  // no cache yet on this thread
  void* p = heap.allocate(64, 16);                // attaches one, refills class 64
  void* q = heap.try_allocate(64, 16);
  ASSERT_NE(q, nullptr);
  EXPECT_NE(p, q);
  EXPECT_TRUE(heap.try_deallocate(q, 64, 16));
  EXPECT_TRUE(heap.try_deallocate(p, 64, 16));
  resource_stats s;
  heap.fill_stats(s);
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.deallocations, 2u);
  EXPECT_EQ(s.total_requested_bytes, 128u);
}

// Hoard's passive false sharing: the main thread allocates small blocks side by side and hands one
// to each worker; a worker that frees its block first and then allocates must not get that block,
// or any block on its cache line, back (the other workers' blocks share that line). A thread that
// only ever frees still caches once it has passed on a batch.
TEST(ScalableHeap, AThreadThatStartsByFreeingAnotherThreadsBlocksDoesNotReuseTheirLines) {
  test_upstream up;
  stats_counters counters;
  scalable_heap heap({}, up, counters);
  std::vector<void*> given;
  for (int i = 0; i < 4; ++i) given.push_back(heap.allocate(16, 16));
  std::vector<std::uintptr_t> got(given.size());
  for (std::size_t t = 0; t < given.size(); ++t) {
    std::thread([&, t] {
      heap.deallocate(given[t], 16, 16);
      got[t] = reinterpret_cast<std::uintptr_t>(heap.allocate(16, 16));
      heap.deallocate(reinterpret_cast<void*>(got[t]), 16, 16);
    }).join();
  }
  for (std::size_t t = 0; t < given.size(); ++t) {
    for (void* g : given) {
      EXPECT_NE(got[t] / 64, reinterpret_cast<std::uintptr_t>(g) / 64) << "worker " << t << " reuses a given block's line";
    }
  }
  // A thread that only frees: its first batch goes back, then its list keeps blocks.
  std::vector<void*> many;
  for (int i = 0; i < 200; ++i) many.push_back(heap.allocate(16, 16));
  std::thread([&] {
    for (void* p : many) heap.deallocate(p, 16, 16);
    void* cached = heap.try_allocate(16, 16);  // the fast path: served from this thread's list
    ASSERT_NE(cached, nullptr);
    heap.deallocate(cached, 16, 16);
  }).join();
}

TEST(ScalableHeap, FastPathDeclinesWhatOnlyTheSlowPathCanDo) {
  test_upstream up;
  stats_counters counters;
  scalable_heap heap({}, up, counters);
  heap.deallocate(heap.allocate(64, 16), 64, 16);
  EXPECT_EQ(heap.try_allocate(64, 3), nullptr);       // not a power of two
  EXPECT_EQ(heap.try_allocate(64, 0), nullptr);
  EXPECT_EQ(heap.try_allocate(80, 32), nullptr);      // class 80 is only 16-aligned
  EXPECT_EQ(heap.try_allocate(40000, 16), nullptr);   // large
  EXPECT_EQ(heap.try_allocate(static_cast<std::size_t>(-1), 16), nullptr);
  EXPECT_THROW(heap.allocate(64, 3), std::invalid_argument);
  EXPECT_THROW(heap.allocate(static_cast<std::size_t>(-1), 16), std::bad_alloc);
}

TEST(ScalableHeap, CheckedConfigurationTurnsTheFastPathOff) {
  test_upstream up;
  stats_counters counters;
  scalable_heap_config config;
  config.fast_path = false;
  scalable_heap heap(config, up, counters);
  void* p = heap.allocate(64, 16);
  EXPECT_EQ(heap.try_allocate(64, 16), nullptr);
  EXPECT_FALSE(heap.try_deallocate(p, 64, 16));
  heap.deallocate(p, 64, 16);
}

TEST(ScalableHeap, AlternatingHeapsOnOneThreadKeepTheirOwnCaches) {
  test_upstream up;
  stats_counters counters;
  scalable_heap a({}, up, counters), b({}, up, counters);
  for (int i = 0; i < 100; ++i) {
    void* pa = a.allocate(32, 8);
    void* pb = b.allocate(32, 8);
    a.deallocate(pa, 32, 8);
    b.deallocate(pb, 32, 8);
  }
  resource_stats sa, sb;
  a.fill_stats(sa);
  b.fill_stats(sb);
  EXPECT_EQ(sa.allocations, 100u);
  EXPECT_EQ(sb.allocations, 100u);
  EXPECT_EQ(sa.live_blocks + sb.live_blocks, 0u);
}

TEST(ScalableHeap, ANewHeapNeverReusesADestroyedHeapsCache) {
  test_upstream up;
  stats_counters counters;
  for (int round = 0; round < 5; ++round) {
    // Likely at the same address each round; the remembered cache must not match the new heap.
    auto heap = std::make_unique<scalable_heap>(scalable_heap_config{}, up, counters);
    EXPECT_EQ(heap->try_allocate(64, 16), nullptr);
    heap->deallocate(heap->allocate(64, 16), 64, 16);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ScalableHeap, RejectsBadConfiguration) {
  test_upstream up;
  stats_counters counters;
  auto build = [&](scalable_heap_config c) { scalable_heap h(c, up, counters); };
  scalable_heap_config c;
  c.span_bytes = 3000;
  EXPECT_THROW(build(c), std::invalid_argument);
  c = {};
  c.max_batch = 1;
  EXPECT_THROW(build(c), std::invalid_argument);
  c = {};
  c.class_cache_batches = 0;
  EXPECT_THROW(build(c), std::invalid_argument);
  c = {};
  c.class_burst_batches = 1025;
  EXPECT_THROW(build(c), std::invalid_argument);
  c = {};
  c.batch_bytes = 0;
  EXPECT_THROW(build(c), std::invalid_argument);
  c = {};
  c.classes.max_small = 7;
  EXPECT_THROW(build(c), std::invalid_argument);
}

}  // namespace
}  // namespace allocbench::detail
