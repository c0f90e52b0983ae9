#include "allocator/scalable_thread_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  class_central_list second{64, 64, 64 * 1024, up, counters, 1};  // class 1's, for tests of two classes
  thread_cache_policy policy;
  live_bytes_peak peak;
  size_class_map map{size_class_params{}};
  scalable_thread_cache cache{map};

  explicit fixture(std::size_t total_bytes = 1 << 20) {
    policy.total_bytes = total_bytes;
    policy.size[0] = 64;
    policy.batch[0] = 4;
    policy.max_blocks[0] = 12;
    policy.burst_blocks[0] = 32;
  }
  // A second class of 64-byte blocks (list 1, central list `second`), bounded as class 0 is.
  void add_second_class() {
    policy.size[1] = 64;
    policy.batch[1] = 4;
    policy.max_blocks[1] = 12;
  }
  // Gives both classes' cached blocks and free spans back (every block must be freed first).
  void give_back_both_classes() {
    cache.drain(0, central);
    cache.drain(1, second);
    central.release_unused();
    second.release_unused();
  }
  // What scalable_heap's allocate_small and deallocate_small do with a cache's list c.
  void* allocate(std::size_t c = 0) { return allocate_from(cache, c, central); }
  void deallocate(void* p, std::size_t c = 0) { deallocate_into(cache, c, central, p); }
  void* allocate_from(scalable_thread_cache& tc, std::size_t c, class_central_list& from) {
    thread_class_list& l = tc.lists[c];
    void* p = l.head;
    if (p != nullptr) l.head = *static_cast<void**>(p);
    else p = tc.refill(c, from, policy, peak);
    add_relaxed(l.credit, 1);
    add_relaxed(l.allocations, 1);
    return p;
  }
  void deallocate_into(scalable_thread_cache& tc, std::size_t c, class_central_list& to, void* p) {
    thread_class_list& l = tc.lists[c];
    if (!take_credit(l.credit)) {
      tc.make_room(c, to, policy, peak);
      add_relaxed(l.credit, -1);
    }
    *static_cast<void**>(p) = l.head;
    l.head = p;
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

// Frees and allocations interleaved, two frees to one allocation: the first overflow ends a swing
// (the list ran empty at the refills before it) and takes one batch more; after that the list never
// runs empty again, so it keeps its bound while the thread gives back more than it takes.
TEST(ScalableThreadCache, BoundIsCappedAndOverflowFlushesABatch) {
  fixture f;
  std::vector<void*> blocks;
  for (int i = 0; i < 60; ++i) blocks.push_back(f.allocate());
  EXPECT_EQ(f.cache.max_blocks(0), 12u);  // 3 batches, not more
  std::size_t flushes = 0;
  while (blocks.size() >= 2) {
    const std::int64_t before = f.cache.cached(0);
    for (int k = 0; k < 2; ++k) {
      f.deallocate(blocks.back());
      blocks.pop_back();
    }
    blocks.push_back(f.allocate());
    if (f.cache.cached(0) < before) ++flushes;
    ASSERT_LE(f.cache.cached(0), 16);
    ASSERT_LE(f.cache.max_blocks(0), 16u);
  }
  EXPECT_EQ(f.cache.max_blocks(0), 16u);  // the one swing's batch, and no more
  EXPECT_GE(flushes, 5u);  // ~44 more frees than allocations went to the central list a batch at a time
  EXPECT_GE(f.cache.cached(0), 16 - 4 - 1);
  for (void* p : blocks) f.deallocate(p);
  f.cache.drain(0, f.central);
}

// Frees `n` of `out`'s blocks (the last ones), then allocates as many back: a list whose thread's
// use of the class swings wider than its bound runs full, then empty.
void swing(fixture& f, std::vector<void*>& out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    f.deallocate(out.back());
    out.pop_back();
  }
  for (std::size_t i = 0; i < n; ++i) out.push_back(f.allocate());
}

// A thread whose own use of the class runs its list from empty to full (requests that end and
// start, a live set's random walk) grows the list by a batch per swing, past the ordinary bound up
// to the burst bound, and keeps that bound across refills: the next swing is served from the cache.
TEST(ScalableThreadCache, AListThatSwingsFromEmptyToFullGrowsABatchPerSwingAndKeepsIt) {
  fixture f;  // burst bound 32 blocks, against the ordinary bound of 12
  std::vector<void*> out;
  for (int i = 0; i < 100; ++i) out.push_back(f.allocate());
  ASSERT_EQ(f.cache.max_blocks(0), 12u);
  for (std::size_t i = 1; i <= 7; ++i) {
    swing(f, out, 40);  // 40 > 32: every swing runs the list full, then empty (a refill)
    EXPECT_EQ(f.cache.max_blocks(0), std::min<std::size_t>(12 + 4 * i, 32)) << "swing " << i;
  }
  // At the burst bound a further swing flushes instead.
  for (int i = 0; i < 10; ++i) {
    f.deallocate(out.back());
    out.pop_back();
  }
  EXPECT_EQ(f.cache.max_blocks(0), 32u);
  for (void* p : out) f.deallocate(p);
  f.cache.drain(0, f.central);
  f.central.release_unused();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

// A swing grows a list only into allowance no other class holds: at the byte cap (no budget here, so
// no share past it) it flushes, and the other class keeps its allowance.
TEST(ScalableThreadCache, ASwingTakesNoAllowanceFromOtherClasses) {
  fixture f(64 * 16);  // byte cap: 16 blocks in all
  f.add_second_class();
  std::vector<void*> theirs;  // class 1: a bound of 4 and an empty list, so all 4 places unused
  for (int i = 0; i < 4; ++i) theirs.push_back(f.allocate_from(f.cache, 1, f.second));
  ASSERT_EQ(f.cache.max_blocks(1), 4u);
  ASSERT_EQ(f.cache.cached(1), 0);
  std::vector<void*> blocks;
  for (int i = 0; i < 40; ++i) blocks.push_back(f.allocate());
  ASSERT_EQ(f.cache.max_blocks(0), 12u);
  for (int round = 0; round < 3; ++round) {  // three full swings
    for (void* p : blocks) {
      f.deallocate(p);
      ASSERT_LE(f.cache.max_blocks(0), 12u);
    }
    for (void*& p : blocks) p = f.allocate();
  }
  for (void* p : blocks) f.deallocate(p);
  EXPECT_EQ(f.cache.max_blocks(0), 12u);
  EXPECT_EQ(f.cache.max_blocks(1), 4u);
  for (void* p : theirs) f.deallocate_into(f.cache, 1, f.second, p);
  f.give_back_both_classes();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

// Past the byte cap, swings may grow a list into the budget up to the thread's equal share of it
// among the threads that have a cache (with few threads most of the budget would otherwise lie
// unused), and no further: with four threads the share is the byte cap, and growth stops there.
// When more threads arrive, the share falls and the next refill gives the extra back.
TEST(ScalableThreadCache, SwingsGrowPastTheByteCapUpToTheThreadsShareOfTheBudget) {
  for (const std::int64_t threads : {1, 4}) {
    fixture f(64 * 16);  // byte cap: 16 blocks; burst bound 32
    std::atomic<std::int64_t> budget_left{64 * 64}, caches{threads};
    f.policy.budget_left = &budget_left;
    f.policy.budget_bytes = 64 * 64;  // a share of 64 blocks with one thread, 16 with four
    f.policy.caches = &caches;
    std::vector<void*> out;
    for (int i = 0; i < 100; ++i) out.push_back(f.allocate());
    ASSERT_EQ(f.cache.max_blocks(0), 12u);
    const std::int64_t before = budget_left.load();
    for (int i = 0; i < 8; ++i) swing(f, out, 40);
    const std::size_t bound = threads == 1 ? 32 : 16;  // the burst bound; the byte cap
    EXPECT_EQ(f.cache.max_blocks(0), bound) << threads << " threads";
    EXPECT_EQ(f.cache.allowance_bytes(), 64 * bound) << threads << " threads";
    EXPECT_EQ(budget_left.load(), before - std::int64_t(64 * (bound - 12))) << threads << " threads";
    caches.store(4);  // the share is now the byte cap
    const std::int64_t cached = f.cache.cached(0);
    for (std::int64_t i = 0; i <= cached; ++i) out.push_back(f.allocate());  // the last one refills
    EXPECT_EQ(f.cache.max_blocks(0), threads == 1 ? 12u : 16u) << threads << " threads";
    EXPECT_EQ(budget_left.load(), before - std::int64_t(64 * (f.cache.max_blocks(0) - 12))) << threads << " threads";
    for (void* p : out) f.deallocate(p);
    f.cache.drain(0, f.central);
    f.cache.release_allowance(f.policy);
    EXPECT_EQ(budget_left.load(), 64 * 64);
    f.central.release_unused();
    EXPECT_EQ(f.up.outstanding_blocks(), 0u);
  }
}

// A run of frees of blocks carved by another thread's shard (a neighbour's batches, as in
// batch_handoff) does not end a swing, even while the thread has more of its own blocks out.
TEST(ScalableThreadCache, ARunOfBlocksFromAnotherShardDoesNotGrowTheListPastItsBound) {
  fixture f;
  class_central_list two{64, 64, 64 * 1024, f.up, f.counters, 2};
  scalable_thread_cache mine{f.map}, neighbour{f.map};
  mine.shard = 1;
  neighbour.shard = 0;
  std::vector<void*> own, theirs;
  for (int i = 0; i < 100; ++i) own.push_back(f.allocate_from(mine, 0, two));
  for (int i = 0; i < 40; ++i) theirs.push_back(f.allocate_from(neighbour, 0, two));
  ASSERT_TRUE(two.carved_by(own[0], mine.shard));
  ASSERT_FALSE(two.carved_by(theirs[0], mine.shard));
  ASSERT_EQ(mine.max_blocks(0), 12u);
  for (void* p : theirs) {
    f.deallocate_into(mine, 0, two, p);  // live stays >= 60: only the shard tells these apart
    ASSERT_LE(mine.max_blocks(0), 12u);
  }
  // The same run of its own blocks, after the list ran empty, ends a swing.
  mine.drain(0, two);
  own.push_back(f.allocate_from(mine, 0, two));  // a refill, from its own shard
  for (int i = 0; i < 40; ++i) {
    f.deallocate_into(mine, 0, two, own.back());
    own.pop_back();
  }
  EXPECT_GT(mine.max_blocks(0), 12u);
  for (void* p : own) f.deallocate_into(mine, 0, two, p);
  mine.drain(0, two);
  neighbour.drain(0, two);
  two.release_unused();
  f.central.release_unused();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

// A run of frees by a thread that has freed as many of the class as it allocated (blocks another
// thread made) does not end a swing, though its list ran empty before: it keeps its ordinary bound.
TEST(ScalableThreadCache, ARunOfOtherThreadsFreesDoesNotGrowTheListPastItsBound) {
  fixture f;
  scalable_thread_cache other{f.map};
  std::vector<void*> mine, theirs;
  for (int i = 0; i < 12; ++i) mine.push_back(f.allocate_from(other, 0, f.central));
  for (int i = 0; i < 60; ++i) theirs.push_back(f.allocate());
  for (void* p : mine) f.deallocate_into(other, 0, f.central, p);  // a full list, live 0
  for (void* p : theirs) {
    f.deallocate_into(other, 0, f.central, p);
    ASSERT_LE(other.max_blocks(0), 12u);
  }
  other.drain(0, f.central);
  f.cache.drain(0, f.central);
  f.central.release_unused();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
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
  f.add_second_class();

  std::vector<void*> blocks;
  for (int i = 0; i < 8; ++i) blocks.push_back(f.allocate());  // two refills: the whole budget
  EXPECT_EQ(f.cache.max_blocks(0), 8u);
  EXPECT_EQ(f.cache.cached(0), 0);  // every block is out: class 0 uses none of its allowance

  void* q = f.allocate_from(f.cache, 1, f.second);  // class 1 starts: its batch fits by taking one of class 0's
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

  f.deallocate_into(f.cache, 1, f.second, q);
  f.give_back_both_classes();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

// A cache that only frees (a consumer of blocks another thread made) keeps at most one batch of the
// class: a larger list would only hold the blocks away from the producer.
TEST(ScalableThreadCache, ACacheThatOnlyFreesKeepsOneBatch) {
  fixture producer;
  fixture& consumer = producer;  // same central list, two caches
  scalable_thread_cache other{producer.map};
  std::vector<void*> blocks;
  for (int i = 0; i < 30; ++i) blocks.push_back(producer.allocate());
  for (void* p : blocks) {
    consumer.deallocate_into(other, 0, consumer.central, p);
    ASSERT_LE(other.cached(0), 4);
  }
  EXPECT_EQ(other.max_blocks(0), 4u);
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

TEST(ScalableThreadCache, DerivedDeallocationsMatchEveryFreeThroughRefillsFlushesAndSteals) {
  // deallocations() is not counted but derived from credit (thread_class_list): check it against a
  // count kept here, after every call, while refills, flushes, bound growth, allowance stealing
  // (a small byte cap and two classes) and drains move the credit.
  fixture f(12 * 64);
  f.add_second_class();
  class_central_list* centrals[2] = {&f.central, &f.second};
  std::vector<void*> out[2];
  std::uint64_t frees[2] = {0, 0};
  std::uint32_t state = 12345;
  for (int step = 0; step < 4000; ++step) {
    state = state * 1103515245u + 12345u;
    const std::size_t c = (state >> 8) & 1;
    const bool free_one = ((state >> 12) % 100) < 45 && !out[c].empty();
    if (free_one) {
      f.deallocate_into(f.cache, c, *centrals[c], out[c].back());
      out[c].pop_back();
      ++frees[c];
    } else {
      out[c].push_back(f.allocate_from(f.cache, c, *centrals[c]));
    }
    ASSERT_EQ(f.cache.lists[c].deallocations(), frees[c]) << "step " << step;
    ASSERT_EQ(f.cache.lists[c].live(), std::int64_t(out[c].size())) << "step " << step;
  }
  for (std::size_t c = 0; c < 2; ++c) {
    f.cache.drain(c, *centrals[c]);
    EXPECT_EQ(f.cache.lists[c].deallocations(), frees[c]);
    for (void* p : out[c]) {
      f.deallocate_into(f.cache, c, *centrals[c], p);
      ++frees[c];
    }
    EXPECT_EQ(f.cache.lists[c].deallocations(), frees[c]);
    EXPECT_EQ(f.cache.lists[c].live(), 0);
    f.cache.drain(c, *centrals[c]);
  }
  f.central.release_unused();
  f.second.release_unused();
  EXPECT_EQ(f.up.outstanding_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench::detail
