#include "malloc/span_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace allocbench::malloc_detail {
namespace {

constexpr std::size_t kSpan = 64 * 1024;

bool aligned(const void* p, std::size_t a) { return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0; }

// Pages of [p, p + bytes) resident now.
std::size_t resident_pages(void* p, std::size_t bytes) {
  std::vector<unsigned char> v(bytes / 4096);
  EXPECT_EQ(mincore(p, bytes, v.data()), 0);
  std::size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

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
  EXPECT_EQ(resident_pages(p, kSpan), kSpan / 4096);
  EXPECT_EQ(pool->get(kSpan), p);  // the same span, no fault on reuse
  EXPECT_EQ(pool->dirty_bytes(), 0u);
  pool->put(p, kSpan);
}

TEST(SpanPagesTest, PastTheAllowanceGivenBackPagesLeaveRssAndTheSpanStillWorks) {
  auto pool = fresh();
  const std::size_t n = span_pages::kDirtyBytes / kSpan + 4;
  std::vector<void*> spans;
  for (std::size_t i = 0; i < n; ++i) {
    spans.push_back(pool->get(kSpan));
    ASSERT_NE(spans.back(), nullptr);
    std::memset(spans.back(), 0x77, kSpan);
  }
  for (void* p : spans) pool->put(p, kSpan);
  EXPECT_EQ(pool->dirty_bytes(), span_pages::kDirtyBytes);
  // The last four went past the allowance: released to the kernel, none of their pages resident.
  for (std::size_t i = n - 4; i < n; ++i) EXPECT_EQ(resident_pages(spans[i], kSpan), 0u) << i;
  // Resident spans are reused first, then released ones (zero again: the kernel's fresh pages).
  std::vector<void*> again;
  for (std::size_t i = 0; i < n; ++i) again.push_back(pool->get(kSpan));
  auto* released = static_cast<unsigned char*>(again.back());
  EXPECT_EQ(released[0], 0);
  std::memset(released, 1, kSpan);
  EXPECT_EQ(pool->reserved_bytes() % span_pages::kRegionBytes, 0u);
  EXPECT_LE(pool->reserved_bytes(), 2 * span_pages::kRegionBytes);  // no new region for the reuse
  for (void* p : again) pool->put(p, kSpan);
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
