#include "allocator/chunk_list.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <new>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

TEST(ChunkList, AcquireRecordsEveryChunkAndReleaseAllGivesThemBack) {
  test_upstream up;
  chunk_list l;
  for (int i = 0; i < 20; ++i) {
    void* p = l.acquire(up, 1024, 256);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 256, 0u);
  }
  EXPECT_EQ(l.count(), 20u);
  EXPECT_EQ(l.bytes_held(), 20u * 1024);
  EXPECT_EQ(up.outstanding_blocks(), 20u);
  EXPECT_EQ(l.release_all(up), 20u * 1024);
  EXPECT_EQ(l.count(), 0u);
  EXPECT_EQ(l.bytes_held(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);  // test_upstream also checks size and alignment
}

TEST(ChunkList, UpstreamThrowLeavesNothingRecorded) {
  test_upstream up;
  chunk_list l;
  l.acquire(up, 64, 8);
  up.fail_at(1);
  EXPECT_THROW(l.acquire(up, 64, 8), std::bad_alloc);
  EXPECT_EQ(l.count(), 1u);
  EXPECT_EQ(l.bytes_held(), 64u);
  l.acquire(up, 64, 8);
  EXPECT_EQ(l.count(), 2u);
  EXPECT_EQ(l.release_all(up), 128u);
}

TEST(ChunkList, UsableAgainAfterReleaseAll) {
  test_upstream up;
  chunk_list l;
  l.acquire(up, 32, 8);
  l.release_all(up);
  l.acquire(up, 32, 8);
  EXPECT_EQ(l.count(), 1u);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  l.release_all(up);
}

}  // namespace
}  // namespace allocbench::detail
