// Caches of idle threads (issue 11): 100 threads each allocate and free 512 KiB in 1 KiB blocks and
// then block on a latch; the main thread keeps a few blocks of its own live. What their caches hold together stays within
// thread_cache_budget, and release_unused() called from the main thread brings the bytes held from
// upstream back to the live bytes plus at most one span per shard of the class used.
//
// "Idle" is a thread blocked on a latch this test controls: release_unused() drains a cache only when
// its owner is asleep in the kernel. A thread that has counted down `ready` may still be on its way
// into the latch's futex, so the main thread calls release_unused() until every cache is empty, a
// bounded number of times (no sleep, no timing).
#include <gtest/gtest.h>

#include <cstring>
#include <latch>
#include <thread>
#include <vector>

#include "pmr/scalable_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

constexpr int kThreads = 100;
constexpr std::size_t kBlock = 1024;
constexpr int kBlocksPerThread = 512;  // 512 KiB each
constexpr int kKept = 200;             // the main thread's live blocks

// The threads are (about to be) asleep on a latch: release_unused drains each one it finds asleep.
// A bounded number of calls, no sleep: a thread still on its way into the futex is found next time.
void release_until_caches_empty(scalable_resource& r) {
  for (int attempt = 0; attempt < 100000 && r.cached_bytes() != 0; ++attempt) {
    r.release_unused();
    std::this_thread::yield();
  }
}

void run_idle_threads(const scalable_options& o) {
  testing::test_upstream up;
  scalable_resource r(o, &up);
  std::vector<void*> kept;
  for (int i = 0; i < kKept; ++i) kept.push_back(r.allocate(kBlock, 16));
  std::latch ready(kThreads);
  std::latch go(1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<void*> mine;
      mine.reserve(kBlocksPerThread);
      for (int i = 0; i < kBlocksPerThread; ++i) {
        void* p = r.allocate(kBlock, 16);
        std::memset(p, t, kBlock);
        mine.push_back(p);
      }
      for (void* p : mine) r.deallocate(p, kBlock, 16);
      ready.count_down();
      go.wait();  // idle: blocked on a latch
    });
  }
  ready.wait();

  const std::size_t live = std::size_t(kKept) * kBlock;
  // The budget bounds what idle threads keep cached (100 threads x up to 64 KiB of 1 KiB blocks
  // would be 6.4 MiB without it).
  EXPECT_LE(r.cached_bytes(), o.thread_cache_budget);
  EXPECT_GT(r.stats().bytes_held, 10 * live) << "the scenario should leave free spans behind";

  // Every thread is (about to be) asleep on `go` (the main thread's own cache is drained too).
  release_until_caches_empty(r);
  r.release_unused();
  EXPECT_EQ(r.cached_bytes(), 0u);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.live_bytes, live);
  // Within 10 % of live bytes plus one span per class and shard (one class here, 16 shards).
  const std::size_t shards = o.central_shards == 0 ? 16 : o.central_shards;
  const std::size_t bound = live + live / 10 + shards * r.span_bytes_for(kBlock);
  EXPECT_LE(s.bytes_held, bound) << "live " << live;

  go.count_down();
  for (auto& th : threads) th.join();
  // The threads' fast paths were closed by the drain and open again: they still work, and every
  // block goes back.
  for (void* p : kept) r.deallocate(p, kBlock, 16);
  EXPECT_EQ(r.stats().live_bytes, 0u);
  r.release_unused();
  EXPECT_EQ(r.stats().bytes_held, 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

scalable_options unchecked() {
  scalable_options o;
  o.checked = false;
  return o;
}

TEST(ScalableIdleCaches, SmallBudgetBoundsIdleCachesAndReleaseUnusedDrainsThem) {
  scalable_options o = unchecked();
  o.thread_cache_budget = 1 << 20;  // 1 MiB: 16 threads' worth of a 1 KiB class's 64-block bound
  run_idle_threads(o);
}

TEST(ScalableIdleCaches, DefaultBudget) { run_idle_threads(unchecked()); }

// A thread that was drained while idle finds its fast path closed, and its slow path opens it
// again: it keeps allocating and freeing correctly and its counts stay exact.
TEST(ScalableIdleCaches, DrainedThreadKeepsWorking) {
  scalable_options o = unchecked();
  scalable_resource r(o);
  std::latch ready(1), go(1), done(1);
  std::thread worker([&] {
    void* a = r.allocate(64, 16);
    r.deallocate(a, 64, 16);  // now cached by this thread
    ready.count_down();
    go.wait();
    for (int i = 0; i < 1000; ++i) {
      void* p = r.allocate(64, 16);
      std::memset(p, 1, 64);
      r.deallocate(p, 64, 16);
    }
    done.count_down();
  });
  ready.wait();
  release_until_caches_empty(r);
  EXPECT_EQ(r.cached_bytes(), 0u);
  go.count_down();
  done.wait();
  worker.join();
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 1001u);
  EXPECT_EQ(s.deallocations, 1001u);
  EXPECT_EQ(s.live_bytes, 0u);
}

TEST(ScalableIdleCaches, BudgetOptionIsValidated) {
  scalable_options o = unchecked();
  o.thread_cache_budget = std::size_t(1) << 41;
  EXPECT_THROW(scalable_resource r(o), std::invalid_argument);
}

// Budget 0: no thread caches anything; every free goes to the central lists and counts stay exact.
TEST(ScalableIdleCaches, ZeroBudgetCachesNothing) {
  scalable_options o = unchecked();
  o.thread_cache_budget = 0;
  scalable_resource r(o);
  std::vector<void*> v;
  for (int i = 0; i < 200; ++i) v.push_back(r.allocate(256, 16));
  for (void* p : v) r.deallocate(p, 256, 16);
  EXPECT_EQ(r.cached_bytes(), 0u);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 200u);
  EXPECT_EQ(s.deallocations, 200u);
  EXPECT_EQ(s.live_bytes, 0u);
}

}  // namespace
}  // namespace allocbench
