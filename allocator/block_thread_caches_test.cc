#include "allocator/block_thread_caches.h"

#include <gtest/gtest.h>

#include <barrier>
#include <memory>
#include <thread>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

// 64 blocks of 32 bytes per chunk, caches of 8 (batches of 4).
struct fixture {
  test_upstream up;
  stats_counters counters;
  central_free_list central{geometry_for(32), 32 * 64, up, counters};
};

TEST(BlockThreadCaches, AnEmptyCacheTakesHalfItsCapacityFromTheCentralList) {
  fixture f;
  block_thread_caches caches(f.central, 8);
  void* p = caches.allocate();
  EXPECT_EQ(f.central.free_count(), 64u - 4);
  // The next three come from the cache without touching the central list.
  for (int i = 0; i < 3; ++i) caches.allocate();
  EXPECT_EQ(f.central.free_count(), 64u - 4);
  caches.allocate();
  EXPECT_EQ(f.central.free_count(), 64u - 8);
  EXPECT_EQ(caches.thread_count(), 1u);
  (void)p;
}

TEST(BlockThreadCaches, AThreadNeverKeepsMoreThanItsCapacity) {
  fixture f;
  block_thread_caches caches(f.central, 8);
  std::vector<void*> blocks;
  for (int i = 0; i < 20; ++i) blocks.push_back(caches.allocate());
  EXPECT_EQ(f.central.free_count(), 64u - 20);
  for (void* p : blocks) caches.deallocate(p);
  // Full caches give half back: the thread ends holding exactly its capacity.
  EXPECT_EQ(f.central.free_count(), 64u - 8);
}

TEST(BlockThreadCaches, ABlockFreedOnAnotherThreadGoesToThatThreadsCache) {
  fixture f;
  block_thread_caches caches(f.central, 8);
  void* p = caches.allocate();
  std::thread other([&] {
    caches.deallocate(p);
    EXPECT_EQ(caches.allocate(), p);  // most recently cached first
    caches.deallocate(p);
  });
  other.join();
}

TEST(BlockThreadCaches, ThreadExitGivesTheCacheBack) {
  fixture f;
  block_thread_caches caches(f.central, 8);
  std::thread worker([&] {
    std::vector<void*> blocks;
    for (int i = 0; i < 6; ++i) blocks.push_back(caches.allocate());
    for (void* p : blocks) caches.deallocate(p);
    EXPECT_EQ(caches.thread_count(), 1u);
  });
  worker.join();
  EXPECT_EQ(caches.thread_count(), 0u);
  EXPECT_EQ(f.central.free_count(), 64u);
}

TEST(BlockThreadCaches, DestroyingThemWhileAThreadHoldsACacheReturnsItsBlocks) {
  fixture f;
  auto caches = std::make_unique<block_thread_caches>(f.central, 8);
  std::barrier sync(2);
  std::thread worker([&] {
    caches->deallocate(caches->allocate());
    sync.arrive_and_wait();  // the cache holds blocks
    sync.arrive_and_wait();  // the caches are gone; exiting must not touch them
  });
  sync.arrive_and_wait();
  EXPECT_LT(f.central.free_count(), 64u);
  caches.reset();
  EXPECT_EQ(f.central.free_count(), 64u);
  sync.arrive_and_wait();
  worker.join();
}

TEST(BlockThreadCaches, DropAllEmptiesEveryCache) {
  fixture f;
  block_thread_caches caches(f.central, 8);
  caches.deallocate(caches.allocate());
  caches.drop_all();
  f.central.release();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
  // The cache was emptied: the next allocation must refill from new upstream memory.
  void* p = caches.allocate();
  EXPECT_EQ(f.up.outstanding_blocks(), 1u);
  caches.deallocate(p);
}

TEST(BlockThreadCaches, CapacityOneStillWorks) {
  fixture f;
  block_thread_caches caches(f.central, 1);
  void* a = caches.allocate();
  void* b = caches.allocate();
  EXPECT_NE(a, b);
  caches.deallocate(a);
  caches.deallocate(b);  // full: flushes one first
  EXPECT_EQ(f.central.free_count(), 63u);
}

}  // namespace
}  // namespace allocbench::detail
