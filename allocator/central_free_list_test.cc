#include "allocator/central_free_list.h"

#include <gtest/gtest.h>

#include <new>
#include <thread>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

TEST(CentralFreeList, PopRefillsOnlyWhenEmpty) {
  test_upstream up;
  stats_counters c;
  central_free_list central(geometry_for(64), 64 * 4, up, c);
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(central.pop());
  EXPECT_EQ(up.allocate_calls(), 1u);
  blocks.push_back(central.pop());
  EXPECT_EQ(up.allocate_calls(), 2u);
  for (void* p : blocks) central.push(p);
  EXPECT_EQ(central.free_count(), 8u);
}

TEST(CentralFreeList, PopBatchTakesWhatIsThereBeforeRefilling) {
  test_upstream up;
  stats_counters c;
  central_free_list central(geometry_for(64), 64 * 4, up, c);
  free_list cache;
  EXPECT_EQ(central.pop_batch(cache, 3), 3u);  // refill, then 3 of 4
  EXPECT_EQ(central.free_count(), 1u);
  EXPECT_EQ(central.pop_batch(cache, 3), 1u);  // a short batch, no refill
  EXPECT_EQ(up.allocate_calls(), 1u);
  EXPECT_EQ(central.pop_batch(cache, 3), 3u);  // empty: refill
  EXPECT_EQ(up.allocate_calls(), 2u);
  EXPECT_EQ(cache.size(), 7u);
  central.push_batch(cache, 5);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(central.free_count(), 6u);
  central.push_batch(cache, 10);  // fewer than asked: all of them
  EXPECT_TRUE(cache.empty());
  EXPECT_EQ(central.free_count(), 8u);
}

TEST(CentralFreeList, UpstreamThrowInPopBatchChangesNothing) {
  test_upstream up;
  stats_counters c;
  central_free_list central(geometry_for(64), 64 * 4, up, c);
  free_list cache;
  up.fail_at(1);
  EXPECT_THROW(central.pop_batch(cache, 2), std::bad_alloc);
  EXPECT_TRUE(cache.empty());
  EXPECT_EQ(central.free_count(), 0u);
  EXPECT_EQ(central.bytes_held(), 0u);
  EXPECT_EQ(central.pop_batch(cache, 2), 2u);
  central.push_batch(cache, 2);
}

TEST(CentralFreeList, ReleaseGivesEveryChunkBack) {
  test_upstream up;
  stats_counters c;
  central_free_list central(geometry_for(32), 32 * 2, up, c);
  for (int i = 0; i < 5; ++i) central.pop();
  EXPECT_EQ(up.outstanding_blocks(), 3u);
  central.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(central.free_count(), 0u);
  EXPECT_NE(central.pop(), nullptr);
}

TEST(CentralFreeList, ThreadsSharingItNeverGetTheSameBlock) {
  test_upstream up;
  stats_counters c;
  central_free_list central(geometry_for(16), 16 * 64, up, c);
  constexpr int kThreads = 4, kRounds = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&central, t] {
      std::vector<unsigned char*> mine;
      for (int r = 0; r < kRounds; ++r) {
        auto* p = static_cast<unsigned char*>(central.pop());
        for (int i = 0; i < 16; ++i) p[i] = static_cast<unsigned char>(t);
        mine.push_back(p);
        if (mine.size() == 8) {
          for (unsigned char* q : mine) {
            for (int i = 0; i < 16; ++i) ASSERT_EQ(q[i], t) << "block shared between threads";
            central.push(q);
          }
          mine.clear();
        }
      }
      for (unsigned char* q : mine) central.push(q);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(central.free_count(), central.blocks_per_chunk() * up.outstanding_blocks());
}

}  // namespace
}  // namespace allocbench::detail
