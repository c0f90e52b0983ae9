#include "malloc/span_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "pmr/testing/resident_pages.h"

namespace allocbench::malloc_detail {
namespace {

using allocbench::testing::resident_page_count;

constexpr std::size_t kSpan = 64 * 1024;

bool aligned(const void* p, std::size_t a) { return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0; }

// The pool is ~300 KiB of lists: one per test, on the heap.
std::unique_ptr<span_pages> fresh() { return std::make_unique<span_pages>(); }

TEST(SpanPagesTest, SpansAreAlignedToTheirSizeAndCarvedFromOneRegion) {
  auto pool = fresh();
  std::vector<void*> spans;
  for (int i = 0; i < 8; ++i) {
    void* p = pool->get(kSpan);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(aligned(p, kSpan));
    std::memset(p, 0xab, kSpan);
    spans.push_back(p);
  }
  void* big = pool->get(1 << 20);
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(aligned(big, 1 << 20));
  // Eight 64 KiB spans fit one region: one region for them, one for the 1 MiB size.
  EXPECT_EQ(pool->reserved_bytes(), 2 * span_pages::kRegionBytes);
  for (void* p : spans) pool->put(p, kSpan);
  pool->put(big, 1 << 20);
}

TEST(SpanPagesTest, AGivenBackSpanIsReusedWithItsPagesWhileTheAllowanceLasts) {
  auto pool = fresh();
  void* p = pool->get(kSpan);
  std::memset(p, 0x5a, kSpan);
  pool->put(p, kSpan);
  EXPECT_EQ(pool->dirty_bytes(), kSpan);
  EXPECT_EQ(resident_page_count(p, kSpan), kSpan / 4096);
  EXPECT_EQ(pool->get(kSpan), p);  // the same span, no fault on reuse
  EXPECT_EQ(pool->dirty_bytes(), 0u);
  pool->put(p, kSpan);
}

// A clock the tests move by hand (milliseconds).
std::uint64_t g_now_ms = 1000000;
std::uint64_t test_clock() noexcept { return g_now_ms; }

std::unique_ptr<span_pages> fresh_with_test_clock() {
  auto pool = fresh();
  pool->set_clock(&test_clock);
  return pool;
}

std::vector<void*> take_written(span_pages& pool, std::size_t n, std::size_t bytes, int fill) {
  std::vector<void*> spans;
  for (std::size_t i = 0; i < n; ++i) {
    spans.push_back(pool.get(bytes));
    EXPECT_NE(spans.back(), nullptr);
    std::memset(spans.back(), fill, bytes);
  }
  return spans;
}

// Live bytes that swing below their peak and back (fragmentation_mix frees a third and allocates it
// again): the spans emptied on the way down keep their pages, so the way up faults nothing in.
TEST(SpanPagesTest, SpansGivenBackUnderThePeakKeepTheirPagesAndComeBackWithoutAFault) {
  auto pool = fresh_with_test_clock();
  const std::size_t n = 3 * span_pages::kDirtyBytes / kSpan;  // three times the floor
  std::vector<void*> spans = take_written(*pool, n, kSpan, 0x77);
  EXPECT_EQ(pool->peak_bytes(), n * kSpan);
  for (void* p : spans) pool->put(p, kSpan);
  EXPECT_EQ(pool->dirty_bytes(), n * kSpan);
  EXPECT_EQ(resident_page_count(spans, kSpan), n * kSpan / 4096);
  const std::size_t reserved = pool->reserved_bytes();
  std::vector<void*> again;
  for (std::size_t i = 0; i < n; ++i) again.push_back(pool->get(kSpan));
  EXPECT_EQ(static_cast<unsigned char*>(again.back())[123], 0x77);  // its old pages, not fresh zeros
  EXPECT_EQ(pool->reserved_bytes(), reserved);
  EXPECT_EQ(pool->dirty_bytes(), 0u);
  for (void* p : again) pool->put(p, kSpan);
}

// Once the heap stays small the peak halves each second and the pages of kept spans past it leave
// RSS, down to the floor; a span whose pages went is reused, zeroed, and still works.
TEST(SpanPagesTest, WhenThePeakDecaysKeptPagesPastItLeaveRssDownToTheFloor) {
  auto pool = fresh_with_test_clock();
  const std::size_t n = 3 * span_pages::kDirtyBytes / kSpan;
  std::vector<void*> spans = take_written(*pool, n, kSpan, 0x66);
  for (void* p : spans) pool->put(p, kSpan);
  ASSERT_EQ(pool->dirty_bytes(), n * kSpan);

  g_now_ms += 10;  // well within a decay period: nothing changes
  pool->put(pool->get(kSpan), kSpan);
  EXPECT_EQ(pool->dirty_bytes(), n * kSpan);

  g_now_ms += 1000;  // one halving: 3 x floor -> 1.5 x floor
  pool->put(pool->get(kSpan), kSpan);
  EXPECT_EQ(pool->peak_bytes(), n * kSpan / 2);
  EXPECT_EQ(pool->dirty_bytes(), n * kSpan / 2);
  EXPECT_EQ(resident_page_count(spans, kSpan), n * kSpan / 2 / 4096);

  g_now_ms += 1000;  // below the floor now: the floor stays
  pool->put(pool->get(kSpan), kSpan);
  EXPECT_EQ(pool->dirty_bytes(), span_pages::kDirtyBytes);
  EXPECT_EQ(resident_page_count(spans, kSpan), span_pages::kDirtyBytes / 4096);

  // Reused: the kept ones first, then released ones, zero again (the kernel's fresh pages).
  std::vector<void*> again;
  for (std::size_t i = 0; i < n; ++i) again.push_back(pool->get(kSpan));
  auto* released = static_cast<unsigned char*>(again.back());
  EXPECT_EQ(released[0], 0);
  std::memset(released, 1, kSpan);
  EXPECT_EQ(pool->reserved_bytes() % span_pages::kRegionBytes, 0u);
  EXPECT_LE(pool->reserved_bytes(), 2 * span_pages::kRegionBytes);  // no new region for the reuse
  for (void* p : again) pool->put(p, kSpan);
}

// Kept spans of one size do not stand beside new spans of another past the peak: taking a new span
// gives kept pages back so that in-use plus kept stays within the peak plus the floor.
TEST(SpanPagesTest, NewSpansOfAnotherSizeDoNotStackOnKeptOnesPastThePeak) {
  auto pool = fresh_with_test_clock();
  const std::size_t n = 3 * span_pages::kDirtyBytes / kSpan;
  std::vector<void*> small = take_written(*pool, n, kSpan, 0x11);
  for (void* p : small) pool->put(p, kSpan);
  ASSERT_EQ(pool->dirty_bytes(), n * kSpan);
  std::vector<void*> large = take_written(*pool, n / 2, 2 * kSpan, 0x22);
  EXPECT_EQ(pool->in_use_bytes(), n * kSpan);
  EXPECT_EQ(pool->peak_bytes(), n * kSpan);
  EXPECT_EQ(pool->dirty_bytes(), span_pages::kDirtyBytes);
  EXPECT_EQ(resident_page_count(small, kSpan), span_pages::kDirtyBytes / 4096);
  for (void* p : large) pool->put(p, 2 * kSpan);
}

TEST(SpanPagesTest, SpansPastThePooledSizesAreMappingsOfTheirOwn) {
  auto pool = fresh();
  const std::size_t bytes = 2 * span_pages::kMaxPooledBytes;
  void* p = pool->get(bytes);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned(p, bytes));
  EXPECT_EQ(pool->reserved_bytes(), 0u);
  pool->put(p, bytes);
  std::vector<unsigned char> v(1);
  EXPECT_NE(mincore(p, 4096, v.data()), 0);  // unmapped: ENOMEM
}

}  // namespace
}  // namespace allocbench::malloc_detail
