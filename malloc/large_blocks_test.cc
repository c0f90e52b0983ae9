#include "malloc/large_blocks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "pmr/testing/resident_pages.h"

namespace allocbench::malloc_detail {
namespace {

struct large_fixture {
  std::unique_ptr<page_map> pages = std::make_unique<page_map>();
  large_blocks large{*pages};

  // A block of `bytes` allocated, filled with 0xee and freed (into the cache): its old address.
  unsigned char* freed_block(std::size_t bytes) {
    auto* p = static_cast<unsigned char*>(large.allocate(bytes, 16, false));
    std::memset(p, 0xee, bytes);
    large.deallocate(p, pages->lookup(p));
    return p;
  }
};

// Every 997th byte of [p, p + bytes) is zero.
::testing::AssertionResult sampled_zero(const unsigned char* p, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; i += 997) {
    if (p[i] != 0) return ::testing::AssertionFailure() << "byte " << i << " is " << int(p[i]);
  }
  return ::testing::AssertionSuccess();
}

TEST(LargeBlocksTest, PageAlignedAndRecordedInTheFirstPageOnly) {
  large_fixture f;
  auto* p = static_cast<char*>(f.large.allocate(100000, 16, false));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 4096, 0u);
  const std::uint64_t code = f.pages->lookup(p);
  EXPECT_EQ(code, page_code::kLarge | 102400);
  EXPECT_EQ(f.pages->lookup(p + 4096), page_code::kNone);
  f.large.deallocate(p, code);
  EXPECT_EQ(f.pages->lookup(p), page_code::kNone);
  EXPECT_EQ(f.large.live_bytes(), 0u);
}

TEST(LargeBlocksTest, AFreedMappingIsReusedAndZeroedWhenAskedTo) {
  large_fixture f;
  unsigned char* p = f.freed_block(200000);
  EXPECT_EQ(f.large.cached_bytes(), 200704u);
  auto* q = static_cast<unsigned char*>(f.large.allocate(190000, 16, true));
  EXPECT_EQ(q, p);  // within a quarter of its length: reused
  EXPECT_TRUE(sampled_zero(q, 200704));
  EXPECT_EQ(f.large.cached_bytes(), 0u);
  f.large.deallocate(q, f.pages->lookup(q));
}

// A cached mapping serves requests of other lengths too: python3's lists grow by realloc and are
// freed at lengths that never come back.
TEST(LargeBlocksTest, ALongerCachedMappingIsSplitAndItsTailStaysCached) {
  large_fixture f;
  unsigned char* p = f.freed_block(1 << 20);
  ASSERT_EQ(f.large.cached_bytes(), std::size_t(1) << 20);
  auto* a = static_cast<unsigned char*>(f.large.allocate(200000, 16, true));
  EXPECT_EQ(a, p);  // its front, pages and all
  EXPECT_EQ(f.pages->lookup(a), page_code::kLarge | 200704);
  EXPECT_TRUE(sampled_zero(a, 200704));
  EXPECT_EQ(f.large.cached_bytes(), (std::size_t(1) << 20) - 200704);
  auto* b = static_cast<unsigned char*>(f.large.allocate(600000, 16, false));
  EXPECT_EQ(b, p + 200704);  // the tail's front: still resident, still the old contents
  EXPECT_EQ(allocbench::testing::resident_page_count(b, 602112), 602112u / 4096);
  EXPECT_EQ(b[0], 0xee);
  EXPECT_EQ(f.large.cached_bytes(), (std::size_t(1) << 20) - 200704 - 602112);
  f.large.deallocate(a, f.pages->lookup(a));
  f.large.deallocate(b, f.pages->lookup(b));
  EXPECT_EQ(f.large.live_bytes(), 0u);
}

TEST(LargeBlocksTest, AShorterCachedMappingGrowsAndKeepsItsPages) {
  large_fixture f;
  f.freed_block(200000);
  auto* q = static_cast<unsigned char*>(f.large.allocate(300000, 16, false));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(f.large.cached_bytes(), 0u);
  EXPECT_EQ(f.pages->lookup(q), page_code::kLarge | 303104);
  // The old pages moved (mremap): resident, contents kept; a fresh mapping would read zero.
  EXPECT_EQ(allocbench::testing::resident_page_count(q, 200704), 200704u / 4096);
  EXPECT_EQ(q[0], 0xee);
  EXPECT_EQ(q[199999], 0xee);
  EXPECT_EQ(q[250000], 0);  // an added page
  f.large.deallocate(q, f.pages->lookup(q));
  // Zeroed when asked, also where it was reused.
  auto* z = static_cast<unsigned char*>(f.large.allocate(400000, 16, true));
  EXPECT_TRUE(sampled_zero(z, 400000));
  f.large.deallocate(z, f.pages->lookup(z));
}

TEST(LargeBlocksTest, TheCacheStaysWithinItsBound) {
  large_fixture f;
  std::vector<void*> blocks;
  for (int i = 0; i < 40; ++i) blocks.push_back(f.large.allocate(3 << 20, 16, false));
  for (void* p : blocks) f.large.deallocate(p, f.pages->lookup(p));
  EXPECT_LE(f.large.cached_bytes(), large_blocks::kCacheBytes);
  void* huge = f.large.allocate(large_blocks::kMaxCachedBytes + 4096, 16, false);
  f.large.deallocate(huge, f.pages->lookup(huge));
  EXPECT_LE(f.large.cached_bytes(), large_blocks::kCacheBytes);
}

// The cache's bound follows the blocks in use: once they are all freed, the cache holds no more
// than its floor, whatever it held while they were live.
TEST(LargeBlocksTest, TheCacheShrinksWithTheLiveBytes) {
  large_fixture f;
  std::vector<void*> blocks;
  for (int i = 0; i < 12; ++i) blocks.push_back(f.large.allocate(2 << 20, 16, false));
  EXPECT_EQ(large_blocks::cache_limit(f.large.live_bytes()), large_blocks::kMinCacheBytes + (3 << 20));
  for (void* p : blocks) {
    f.large.deallocate(p, f.pages->lookup(p));
    EXPECT_LE(f.large.cached_bytes(), large_blocks::cache_limit(f.large.live_bytes()));
  }
  EXPECT_EQ(f.large.live_bytes(), 0u);
  EXPECT_LE(f.large.cached_bytes(), large_blocks::kMinCacheBytes);
  // A block that fits under the floor is still kept for the next request of its length.
  void* small = f.large.allocate(300000, 16, false);
  f.large.deallocate(small, f.pages->lookup(small));
  EXPECT_EQ(f.large.cached_bytes(), 303104u);
  EXPECT_EQ(f.large.allocate(300000, 16, false), small);
}

TEST(LargeBlocksTest, OverAlignedBlocksHonourTheirAlignmentAndDoNotRemap) {
  large_fixture f;
  void* p = f.large.allocate(50000, 1 << 20, false);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % (1 << 20), 0u);
  const std::uint64_t code = f.pages->lookup(p);
  EXPECT_NE(code & page_code::kOverAligned, 0u);
  EXPECT_EQ(f.large.resize(p, code, 5000000), nullptr);
  f.large.deallocate(p, code);
}

TEST(LargeBlocksTest, ResizeKeepsTheContentAndRecordsTheNewLength) {
  large_fixture f;
  auto* p = static_cast<char*>(f.large.allocate(40000, 16, false));
  std::memcpy(p, "large", 6);
  auto* q = static_cast<char*>(f.large.resize(p, f.pages->lookup(p), 9000000));
  ASSERT_NE(q, nullptr);
  EXPECT_STREQ(q, "large");
  EXPECT_EQ(f.pages->lookup(q), page_code::kLarge | 9003008);
  if (q != p) {
    EXPECT_EQ(f.pages->lookup(p), page_code::kNone);
  }
  EXPECT_EQ(f.large.live_bytes(), 9003008u);
  f.large.deallocate(q, f.pages->lookup(q));
}

TEST(LargeBlocksTest, ThreadsShareTheCache) {
  large_fixture f;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, t] {
      for (int i = 0; i < 100; ++i) {
        auto* p = static_cast<unsigned char*>(f.large.allocate(std::size_t(40000 + 4096 * ((i + t) % 3)), 16, true));
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(p[100], 0);
        p[100] = 1;
        f.large.deallocate(p, f.pages->lookup(p));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(f.large.live_bytes(), 0u);
  EXPECT_EQ(f.large.allocations(), 400u);
}

}  // namespace
}  // namespace allocbench::malloc_detail
