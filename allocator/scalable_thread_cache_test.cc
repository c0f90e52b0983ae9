#include "allocator/scalable_thread_cache.h"

#include <gtest/gtest.h>

#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

// One class of 64-byte blocks, batches of 4, at most 3 batches cached.
struct fixture {
  test_upstream up;
  stats_counters counters;
  class_central_list central{64, 64, 64 * 1024, up, counters, 1};
  thread_cache_policy policy;
  live_bytes_peak peak;
  scalable_thread_cache cache;

  explicit fixture(std::size_t total_bytes = 1 << 20) {
    policy.total_bytes = total_bytes;
    policy.size[0] = 64;
    policy.batch[0] = 4;
    policy.max_blocks[0] = 12;
  }
  void* allocate() {
    thread_class_list& l = cache.lists[0];
    void* p = l.head;
    if (p != nullptr) l.head = *static_cast<void**>(p);
    else p = cache.refill(0, central, policy, peak);
    l.credit += 1;
    add_relaxed(l.allocations, 1);
    return p;
  }
  void deallocate(void* p) {
    thread_class_list& l = cache.lists[0];
    if (l.credit <= 0) cache.make_room(0, central, policy, peak);
    l.credit -= 1;
    *static_cast<void**>(p) = l.head;
    l.head = p;
    add_relaxed(l.deallocations, 1);
  }
};

TEST(ScalableThreadCache, RefillTakesABatchAndGrowsTheBound) {
  fixture f;
  EXPECT_EQ(f.cache.max_blocks(0), 0u);
  void* p = f.allocate();
  EXPECT_EQ(f.cache.cached(0), 3);
  EXPECT_EQ(f.cache.max_blocks(0), 4u);
  std::vector<void*> more;
  for (int i = 0; i < 3; ++i) more.push_back(f.allocate());
  EXPECT_EQ(f.cache.cached(0), 0);
  more.push_back(f.allocate());  // second refill
  EXPECT_EQ(f.cache.max_blocks(0), 8u);
  f.deallocate(p);
  for (void* q : more) f.deallocate(q);
  EXPECT_EQ(f.cache.cached(0), 8);  // 3 left from the second batch, 5 freed: at the bound
  f.cache.drain(0, f.central);
  EXPECT_EQ(f.cache.cached(0), 0);
  f.central.release_unused();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

TEST(ScalableThreadCache, BoundIsCappedAndOverflowFlushesABatch) {
  fixture f;
  std::vector<void*> blocks;
  for (int i = 0; i < 40; ++i) blocks.push_back(f.allocate());
  EXPECT_EQ(f.cache.max_blocks(0), 12u);  // 3 batches, not more
  for (void* p : blocks) {
    f.deallocate(p);
    ASSERT_LE(f.cache.cached(0), 12);
  }
  EXPECT_GE(f.cache.cached(0), 12 - 4);
  f.cache.drain(0, f.central);
}

TEST(ScalableThreadCache, TotalBytesCapStopsGrowth) {
  fixture f(64 * 4);  // room for one batch of this class only
  std::vector<void*> blocks;
  for (int i = 0; i < 20; ++i) blocks.push_back(f.allocate());
  EXPECT_EQ(f.cache.max_blocks(0), 4u);
  for (void* p : blocks) f.deallocate(p);
  EXPECT_LE(f.cache.cached(0), 4);
  f.cache.drain(0, f.central);
}

// At the byte cap, a class in use takes allowance from one that leaves its allowance unused.
TEST(ScalableThreadCache, AtTheByteCapAGrowingClassTakesUnusedAllowance) {
  fixture f(64 * 8);  // two batches of 64-byte blocks in all
  f.policy.size[1] = 64;
  f.policy.batch[1] = 4;
  f.policy.max_blocks[1] = 12;
  class_central_list second{64, 64, 64 * 1024, f.up, f.counters, 1};

  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(f.allocate());  // two refills: the whole budget
  EXPECT_EQ(f.cache.max_blocks(0), 8u);
  EXPECT_EQ(f.cache.cached(0), 0);  // every block is out: class 0 uses none of its allowance

  void* q = f.cache.refill(1, second, f.policy, f.peak);  // class 1 starts: its batch fits by taking one of class 0's
  f.cache.lists[1].credit += 1;
  EXPECT_EQ(f.cache.max_blocks(1), 4u);
  EXPECT_EQ(f.cache.max_blocks(0), 4u);
  EXPECT_EQ(f.cache.cached(0), 0);

  // Class 0 is now bounded by its smaller max: freeing its 8 blocks keeps at most 4 cached, and
  // class 1, whose list is full, has nothing to give back.
  for (void* p : blocks) {
    f.deallocate(p);
    ASSERT_LE(f.cache.cached(0), 4);
  }
  EXPECT_EQ(f.cache.max_blocks(1), 4u);

  *static_cast<void**>(q) = f.cache.lists[1].head;
  f.cache.lists[1].head = q;
  f.cache.lists[1].credit -= 1;
  f.cache.drain(0, f.central);
  f.cache.drain(1, second);
  f.central.release_unused();
  second.release_unused();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

TEST(ScalableThreadCache, CrossThreadStyleFreesOnlyGrowToTheBound) {
  // A cache that only frees (blocks allocated elsewhere) still stays bounded.
  fixture producer;
  fixture& consumer = producer;  // same central list, two caches
  scalable_thread_cache other;
  std::vector<void*> blocks;
  for (int i = 0; i < 30; ++i) blocks.push_back(producer.allocate());
  for (void* p : blocks) {
    if (other.lists[0].credit <= 0) other.make_room(0, consumer.central, consumer.policy, consumer.peak);
    other.lists[0].credit -= 1;
    *static_cast<void**>(p) = other.lists[0].head;
    other.lists[0].head = p;
    add_relaxed(other.lists[0].deallocations, 1);
    ASSERT_LE(other.cached(0), 12);
  }
  other.drain(0, consumer.central);
  producer.cache.drain(0, producer.central);
  producer.central.release_unused();
  EXPECT_EQ(producer.up.outstanding_blocks(), 0u);
}

TEST(ScalableThreadCache, DropAllForgetsBlocks) {
  fixture f;
  void* p = f.allocate();
  f.deallocate(p);
  EXPECT_GT(f.cache.cached(0), 0);
  f.cache.drop_all();
  EXPECT_EQ(f.cache.cached(0), 0);
  EXPECT_EQ(f.cache.lists[0].head, nullptr);
  f.central.release_all();
}

TEST(ScalableThreadCache, SamplesLiveBytesForThePeak) {
  fixture f;
  std::vector<void*> blocks;
  for (int i = 0; i < 9; ++i) blocks.push_back(f.allocate());  // refills at 1, 5, 9
  EXPECT_EQ(f.peak.peak(), 8 * 64);  // sampled at the third refill, before its allocation counted
  for (void* p : blocks) f.deallocate(p);
  f.cache.drain(0, f.central);
}

}  // namespace
}  // namespace allocbench::detail
