#include "allocator/large_block_shards.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <new>
#include <thread>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

TEST(LargeBlockShards, AlignedBlocksComeAndGo) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters);
  std::vector<void*> blocks;
  for (std::size_t alignment : {1, 16, 64, 4096, 8192, 65536}) {
    void* p = large.allocate(100000, alignment);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
    blocks.push_back(p);
  }
  EXPECT_EQ(large.count(), 6u);
  EXPECT_EQ(large.bytes_held(), up.outstanding_bytes());
  for (void* p : blocks) large.deallocate(p);
  EXPECT_EQ(large.count(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(LargeBlockShards, ReleaseAllAndImpossibleSizes) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters);
  EXPECT_THROW(large.allocate(static_cast<std::size_t>(-1), 16), std::bad_alloc);
  up.fail_at(1);
  EXPECT_THROW(large.allocate(1 << 20, 16), std::bad_alloc);
  EXPECT_EQ(large.count(), 0u);
  for (int i = 0; i < 10; ++i) large.allocate(50000 + i, 16);
  EXPECT_GT(large.release_all(), 10u * 50000);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(LargeBlockShards, ThreadsAllocateAndFreeConcurrently) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&large] {
      for (int i = 0; i < 100; ++i) large.deallocate(large.allocate(40000, 64));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(large.count(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench::detail
