#include "malloc/page_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace allocbench::malloc_detail {
namespace {

constexpr std::uintptr_t kGiB = std::uintptr_t(1) << 30;

const void* at(std::uintptr_t a) { return reinterpret_cast<const void*>(a); }

// The map is 1 MiB of root pointers: one per test, on the heap.
std::unique_ptr<page_map> fresh() { return std::make_unique<page_map>(); }

TEST(PageMapTest, UnsetPagesAndNullReadAsNone) {
  auto m = fresh();
  EXPECT_EQ(m->lookup(nullptr), page_code::kNone);
  EXPECT_EQ(m->lookup(at(0x7f0000001000)), page_code::kNone);
  EXPECT_EQ(m->leaf_count(), 0u);
}

TEST(PageMapTest, SetCoversEveryPageOfTheRangeAndNothingElse) {
  auto m = fresh();
  const std::uintptr_t base = 0x7f1234560000;  // 64 KiB aligned
  ASSERT_TRUE(m->set(at(base), 64 * 1024, 48));
  for (std::uintptr_t a = base; a < base + 64 * 1024; a += 512) EXPECT_EQ(m->lookup(at(a)), 48u) << a;
  EXPECT_EQ(m->lookup(at(base - 1)), page_code::kNone);
  EXPECT_EQ(m->lookup(at(base + 64 * 1024)), page_code::kNone);
  m->clear(at(base), 64 * 1024);
  EXPECT_EQ(m->lookup(at(base)), page_code::kNone);
  EXPECT_EQ(m->lookup(at(base + 64 * 1024 - 1)), page_code::kNone);
}

TEST(PageMapTest, ZeroIsAValidCodeDistinctFromUnset) {
  auto m = fresh();
  ASSERT_TRUE(m->set(at(0x10000), 4096, 0));
  EXPECT_EQ(m->lookup(at(0x10000)), 0u);
}

TEST(PageMapTest, RangeAcrossALeafBoundaryMapsBothLeaves) {
  auto m = fresh();
  const std::uintptr_t boundary = 5 * kGiB;
  ASSERT_TRUE(m->set(at(boundary - 8192), 16384, 4096));
  EXPECT_EQ(m->leaf_count(), 2u);
  EXPECT_EQ(m->lookup(at(boundary - 8192)), 4096u);
  EXPECT_EQ(m->lookup(at(boundary + 8191)), 4096u);
  EXPECT_EQ(m->lookup(at(boundary + 8192)), page_code::kNone);
  m->clear(at(boundary - 8192), 16384);
  EXPECT_EQ(m->lookup(at(boundary)), page_code::kNone);
}

TEST(PageMapTest, SetFirstMarksOnlyTheFirstPage) {
  auto m = fresh();
  const std::uint64_t code = page_code::kLarge | (1 << 20);
  ASSERT_TRUE(m->set_first(at(0x20000000), code));
  EXPECT_EQ(m->lookup(at(0x20000000)), code);
  EXPECT_EQ(m->lookup(at(0x20000000 + 4095)), code);
  EXPECT_EQ(m->lookup(at(0x20001000)), page_code::kNone);
}

TEST(PageMapTest, AddressesPastFortySevenBitsWrapInsteadOfReadingOutOfBounds) {
  auto m = fresh();
  ASSERT_TRUE(m->set(at(0x3000), 4096, 64));
  EXPECT_EQ(m->lookup(at((std::uintptr_t(1) << 47) + 0x3000)), 64u);
  EXPECT_EQ(m->lookup(at(~std::uintptr_t(0))), page_code::kNone);
}

// Threads setting, reading and clearing pages of their own regions, some sharing a leaf being
// created: tsan checks the publication of leaves.
TEST(PageMapTest, ConcurrentSetsAndLookupsOfDistinctPages) {
  auto m = fresh();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 200; ++i) {
        // Threads 0 and 1 share leaf 3, threads 2 and 3 have a leaf each.
        const std::uintptr_t region = t < 2 ? 3 : std::uintptr_t(t + 2);
        const std::uintptr_t a = region * kGiB + (std::uintptr_t(t) * 1000 + std::uintptr_t(i)) * 4096;
        ASSERT_TRUE(m->set(at(a), 4096, std::uint64_t(16 * (t + 1))));
        ASSERT_EQ(m->lookup(at(a)), std::uint64_t(16 * (t + 1)));
        m->clear(at(a), 4096);
        ASSERT_EQ(m->lookup(at(a)), page_code::kNone);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(m->leaf_count(), 3u);
}

}  // namespace
}  // namespace allocbench::malloc_detail
