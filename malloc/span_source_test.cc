#include "malloc/span_source.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>

namespace allocbench::malloc_detail {
namespace {

constexpr std::size_t kSpan = 64 * 1024;

TEST(SpanSourceTest, ASpanGivenBackIsUnsetInThePageMapAndALaterSpanWorks) {
  auto pages = std::make_unique<page_map>();
  auto pool = std::make_unique<span_pages>();
  span_source source(*pages, *pool, 48);
  void* p = source.allocate(kSpan, kSpan);
  ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % kSpan, 0u);
  for (std::size_t off = 0; off < kSpan; off += 4096) {
    EXPECT_EQ(pages->lookup(static_cast<char*>(p) + off), 48u);
  }
  source.deallocate(p, kSpan, kSpan);
  for (std::size_t off = 0; off < kSpan; off += 4096) {
    EXPECT_EQ(pages->lookup(static_cast<char*>(p) + off), page_code::kNone);
  }
  // Another class's source reuses the span: its pages now say that class.
  span_source other(*pages, *pool, 256);
  void* q = other.allocate(kSpan, kSpan);
  EXPECT_EQ(q, p);
  std::memset(q, 3, kSpan);
  EXPECT_EQ(pages->lookup(static_cast<char*>(q) + kSpan - 1), 256u);
  other.deallocate(q, kSpan, kSpan);
}

}  // namespace
}  // namespace allocbench::malloc_detail
