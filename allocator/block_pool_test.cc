#include "allocator/block_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <set>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

TEST(BlockGeometry, StrideHoldsAPointerAndIsAMultipleOfEight) {
  EXPECT_EQ(geometry_for(1).stride, 8u);
  EXPECT_EQ(geometry_for(8).stride, 8u);
  EXPECT_EQ(geometry_for(9).stride, 16u);
  EXPECT_EQ(geometry_for(24).stride, 24u);
  EXPECT_EQ(geometry_for(100).stride, 104u);
  EXPECT_EQ(geometry_for(4096).stride, 4096u);
}

TEST(BlockGeometry, AlignmentIsTheLargestPowerOfTwoDividingTheStrideCappedAt4096) {
  EXPECT_EQ(geometry_for(1).alignment, 8u);
  EXPECT_EQ(geometry_for(24).alignment, 8u);
  EXPECT_EQ(geometry_for(32).alignment, 32u);
  EXPECT_EQ(geometry_for(48).alignment, 16u);
  EXPECT_EQ(geometry_for(96).alignment, 32u);
  EXPECT_EQ(geometry_for(4096).alignment, 4096u);
  EXPECT_EQ(geometry_for(8192).alignment, 4096u);
  EXPECT_EQ(geometry_for(3 * 8192).alignment, 4096u);
}

TEST(BlockPool, EmptyUntilRefilled) {
  test_upstream up;
  stats_counters c;
  block_pool pool(geometry_for(64), 1024, up, c);
  EXPECT_EQ(pool.pop(), nullptr);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(up.allocate_calls(), 0u);
}

TEST(BlockPool, ARefillYieldsOneChunkOfDistinctAlignedBlocks) {
  test_upstream up;
  stats_counters c;
  const block_geometry g = geometry_for(96);  // stride 96, alignment 32
  block_pool pool(g, 1000, up, c);            // 10 whole blocks, 40 bytes of tail unused
  pool.refill();
  EXPECT_EQ(pool.blocks_per_chunk(), 10u);
  EXPECT_EQ(pool.free_count(), 10u);
  EXPECT_EQ(pool.bytes_held(), 1000u);
  std::set<std::uintptr_t> seen;
  for (int i = 0; i < 10; ++i) {
    void* p = pool.pop();
    ASSERT_NE(p, nullptr);
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    EXPECT_EQ(a % 32, 0u);
    for (std::uintptr_t s : seen) EXPECT_GE(a > s ? a - s : s - a, 96u) << "blocks overlap";
    seen.insert(a);
    std::memset(p, 0x5A, 96);  // asan: the whole stride lies inside the chunk
  }
  EXPECT_EQ(pool.pop(), nullptr);
  EXPECT_EQ(up.allocate_calls(), 1u);
}

TEST(BlockPool, FreedBlocksAreReusedMostRecentFirstBeforeTheChunkTail) {
  test_upstream up;
  stats_counters c;
  block_pool pool(geometry_for(32), 32 * 8, up, c);
  pool.refill();
  void* a = pool.pop();
  void* b = pool.pop();
  pool.push(a);
  pool.push(b);
  EXPECT_EQ(pool.free_count(), 8u);
  EXPECT_EQ(pool.pop(), b);
  EXPECT_EQ(pool.pop(), a);
  // Then the untouched rest of the chunk.
  void* next = pool.pop();
  EXPECT_EQ(static_cast<std::byte*>(next), static_cast<std::byte*>(b) + 32);
}

TEST(BlockPool, UpstreamThrowLeavesThePoolUnchanged) {
  test_upstream up;
  stats_counters c;
  block_pool pool(geometry_for(64), 256, up, c);
  up.fail_at(1);
  EXPECT_THROW(pool.refill(), std::bad_alloc);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.bytes_held(), 0u);
  EXPECT_EQ(pool.pop(), nullptr);
  pool.refill();
  EXPECT_EQ(pool.free_count(), 4u);
}

TEST(BlockPool, ReleaseGivesEveryChunkBackAndCountsIt) {
  test_upstream up;
  stats_counters c;
  block_pool pool(geometry_for(64), 256, up, c);
  for (int i = 0; i < 3; ++i) pool.refill();
  resource_stats s;
  c.fill(s);
  EXPECT_EQ(s.bytes_held, 3u * 256);
  EXPECT_EQ(s.peak_bytes_held, 3u * 256);
  pool.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.pop(), nullptr);
  c.fill(s);
  EXPECT_EQ(s.bytes_held, 0u);
  // Usable again.
  pool.refill();
  EXPECT_NE(pool.pop(), nullptr);
}

TEST(BlockPool, DestructorGivesEverythingBack) {
  test_upstream up;  // its destructor fails the test on a leak
  stats_counters c;
  {
    block_pool pool(geometry_for(16), 4096, up, c);
    pool.refill();
    pool.refill();
    EXPECT_EQ(up.outstanding_blocks(), 2u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench::detail
