#include "allocator/large_block_shards.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "pmr/testing/resident_pages.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::page_resident;
using allocbench::testing::test_upstream;

TEST(LargeBlockShards, AlignedBlocksComeAndGo) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters);
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t alignment : {1, 16, 64, 4096, 8192, 65536}) {
    void* p = large.allocate(100000, alignment);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
    blocks.emplace_back(p, alignment);
  }
  EXPECT_EQ(large.count(), 6u);
  EXPECT_EQ(large.bytes_held(), up.outstanding_bytes());
  for (auto [p, alignment] : blocks) large.deallocate(p, alignment);
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
      for (int i = 0; i < 100; ++i) large.deallocate(large.allocate(40000, 64), 64);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(large.count(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}


// ---- Own pages (a resource without a user's upstream). ------------------------------------------

TEST(LargeBlockShardsOwnPages, AFreedBlockServesTheNextRequestOfAboutItsLength) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters, true);
  void* a = large.allocate(100000, 64);
  std::memset(a, 1, 100000);
  const std::size_t mapped = large.bytes_held();
  EXPECT_EQ(mapped, 112u * 1024);  // 100064 bytes with the header: a quarter step, not a power of two
  large.deallocate(a, 64);
  EXPECT_EQ(large.count(), 0u);
  EXPECT_EQ(large.bytes_cached(), mapped);
  EXPECT_EQ(large.bytes_held(), mapped);  // kept blocks count as held
  EXPECT_TRUE(page_resident(a));               // kept with its pages
  // A little shorter: the kept block, pages and all.
  void* b = large.allocate(97000, 16);
  EXPECT_EQ(static_cast<char*>(b) + 32, static_cast<char*>(a));  // headers: 32 bytes at 16, 64 at 64
  EXPECT_EQ(large.bytes_cached(), 0u);
  // Much shorter (less than 4/5 of the kept length): not the kept block.
  large.deallocate(b, 16);
  void* c = large.allocate(40000, 64);
  EXPECT_NE(c, a);
  large.deallocate(c, 64);
  EXPECT_EQ(up.allocate_calls(), 0u);  // nothing went upstream
  const std::size_t kept = large.bytes_held();
  EXPECT_EQ(large.release_cached(), kept);
  EXPECT_EQ(large.bytes_held(), 0u);
  EXPECT_FALSE(page_resident(a));  // unmapped
}

TEST(LargeBlockShardsOwnPages, MappingLengthsAreQuarterStepsBetweenPowersOfTwo) {
  constexpr std::size_t kKiB = 1024;
  // Up to 16 pages a step is a page or less: whole pages.
  EXPECT_EQ(page_blocks::mapping_bytes(20000, 16), 20 * kKiB);
  EXPECT_EQ(page_blocks::mapping_bytes(64 * kKiB - 32, 16), 64 * kKiB);
  EXPECT_EQ(page_blocks::mapping_bytes(64 * kKiB - 31, 16), 80 * kKiB);
  EXPECT_EQ(page_blocks::mapping_bytes(128 * kKiB, 64), 160 * kKiB);  // header included
  EXPECT_EQ(page_blocks::mapping_bytes(200 * kKiB, 64), 224 * kKiB);
  EXPECT_EQ(page_blocks::mapping_bytes(250 * kKiB, 64), 256 * kKiB);
  EXPECT_EQ(page_blocks::mapping_bytes(std::size_t(1) << 45, 64), std::size_t(5) << 43);
  EXPECT_EQ(page_blocks::mapping_bytes(kMaxMappingBytes - 64, 64), kMaxMappingBytes);
  EXPECT_EQ(page_blocks::mapping_bytes(kMaxMappingBytes, 64), 0u);
}

TEST(LargeBlockShardsOwnPages, AGrowingBlockReusesMappings) {
  // A tensor that grows by 256 bytes per step (inference_kv), the new one allocated before the old
  // one is freed, from 40000 bytes to 128 KiB: 360 allocations. With page-granular lengths every
  // page it grows past was two new mappings (46 here); with quarter steps it is two per step.
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters, true);
  void* old = nullptr;
  for (std::size_t bytes = 40000; bytes <= 128 * 1024; bytes += 256) {
    void* p = large.allocate(bytes, 64);
    static_cast<char*>(p)[bytes - 1] = 1;
    if (old != nullptr) large.deallocate(old, 64);
    old = p;
  }
  EXPECT_LE(large.mappings_made(), 20u);
  large.deallocate(old, 64);
  // The tail of a mapping past the block is never touched: it costs no resident page.
  void* p = large.allocate(129 * 1024, 64);
  std::memset(p, 3, 129 * 1024);
  const std::size_t mapped = page_blocks::mapped_of(p, 64);
  EXPECT_EQ(mapped, 160u * 1024);
  EXPECT_FALSE(page_resident(static_cast<char*>(page_blocks::base_of(p, 64)) + mapped - 4096));
  large.deallocate(p, 64);
  resource_stats s;
  counters.fill(s);
  EXPECT_EQ(s.bytes_held, large.bytes_held());  // mapped bytes counted, rounding included
  EXPECT_LE(large.bytes_cached(), large_block_shards::kCacheBytesPerShard);
  large.release_all();
  counters.fill(s);
  EXPECT_EQ(s.bytes_held, 0u);
}

TEST(LargeBlockShardsOwnPages, KeptBytesStayWithinTheBoundAndReleaseGivesThemBack) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters, true);
  std::vector<void*> blocks;
  for (int i = 0; i < 40; ++i) {
    blocks.push_back(large.allocate(128 * 1024, 64));
    std::memset(blocks.back(), 2, 128 * 1024);
  }
  for (void* p : blocks) large.deallocate(p, 64);
  // One thread: one shard's cache; the oldest blocks went back to the kernel.
  EXPECT_LE(large.bytes_cached(), large_block_shards::kCacheBytesPerShard);
  EXPECT_GT(large.bytes_cached(), large_block_shards::kCacheBytesPerShard / 2);
  EXPECT_FALSE(page_resident(blocks.front()));
  EXPECT_TRUE(page_resident(blocks.back()));
  resource_stats s;
  counters.fill(s);
  EXPECT_EQ(s.bytes_held, large.bytes_held());  // the counters saw every map and unmap
  // release_all gives kept and live blocks back alike.
  void* live = large.allocate(200000, 4096);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(live) % 4096, 0u);
  large.release_all();
  EXPECT_EQ(large.bytes_held(), 0u);
  EXPECT_EQ(large.count(), 0u);
  EXPECT_FALSE(page_resident(blocks.back()));
  counters.fill(s);
  EXPECT_EQ(s.bytes_held, 0u);
}

TEST(LargeBlockShardsOwnPages, ImpossibleSizesAndLargeAlignments) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters, true);
  large.deallocate(large.allocate(70000, 64), 64);  // something kept
  const std::size_t held = large.bytes_held();
  for (std::size_t bytes : {static_cast<std::size_t>(-1), static_cast<std::size_t>(-1) - 4096,
                            std::size_t(1) << 62}) {
    EXPECT_THROW(large.allocate(bytes, 64), std::bad_alloc);
  }
  EXPECT_EQ(large.bytes_held(), held);  // nothing changed
  EXPECT_EQ(large.count(), 0u);
  // Alignments above a page still go upstream, one block each.
  void* p = large.allocate(100000, 8192);
  EXPECT_EQ(up.allocate_calls(), 1u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8192, 0u);
  large.deallocate(p, 8192);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(LargeBlockShardsOwnPages, BlocksFreedByAnotherThread) {
  test_upstream up;
  stats_counters counters;
  large_block_shards large(up, counters, true);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&large, t] {
      std::vector<void*> mine;
      for (int i = 0; i < 50; ++i) mine.push_back(large.allocate(40000 + 4096 * std::size_t(i % 5 + t), 64));
      std::thread freer([&] {
        for (void* p : mine) large.deallocate(p, 64);
      });
      freer.join();
      for (int i = 0; i < 50; ++i) large.deallocate(large.allocate(40000, 64), 64);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(large.count(), 0u);
  EXPECT_LE(large.bytes_cached(), large_block_shards::kShards * large_block_shards::kCacheBytesPerShard);
  EXPECT_EQ(large.bytes_held(), large.bytes_cached());
  EXPECT_EQ(up.allocate_calls(), 0u);
}

}  // namespace
}  // namespace allocbench::detail
