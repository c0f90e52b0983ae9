// Where scalable_resource's spans come from: its own os_span_source when it is built without an
// upstream (constructor, presets and layouts with none named), exactly the given upstream otherwise;
// and its large blocks: mappings of its own (freed ones kept) without an upstream, the upstream's with one.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <new>
#include <vector>

#include "pmr/testing/default_resource_guard.h"
#include "pmr/presets.h"
#include "pmr/scalable_resource.h"
#include "pmr/testing/resident_pages.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::page_resident;
using testing::test_upstream;

// Checked mode changes nothing here; unchecked keeps the counts simple.
const scalable_options kUnchecked = [] {
  scalable_options o;
  o.checked = false;
  return o;
}();


// Small blocks of several classes, enough to need several spans each, then all freed.
void churn_small_blocks(std::pmr::memory_resource& r) {
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (int i = 0; i < 4000; ++i) {
    const std::size_t bytes = 16 + std::size_t(i % 7) * 40;
    blocks.emplace_back(r.allocate(bytes, 8), bytes);
  }
  for (auto [p, bytes] : blocks) r.deallocate(p, bytes, 8);
}

// 40 large blocks of 40 KiB .. 160 KiB, each written, then all freed.
void churn_large_blocks(std::pmr::memory_resource& r) {
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (int i = 0; i < 40; ++i) {
    const std::size_t bytes = 40000 + std::size_t(i % 4) * 40000;
    blocks.emplace_back(r.allocate(bytes, 64), bytes);
    std::memset(blocks.back().first, 3, bytes);
  }
  for (auto [p, bytes] : blocks) r.deallocate(p, bytes, 64);
}

TEST(ScalableSpanSource, WithoutAnUpstreamSpansAndLargeBlocksComeFromTheOs) {
  test_upstream counting;
  const testing::default_resource_guard scope(&counting);
  scalable_resource r(kUnchecked);
  EXPECT_TRUE(r.spans_from_os());
  churn_small_blocks(r);
  EXPECT_EQ(counting.allocate_calls(), 0u);  // no span went to the default resource
  EXPECT_GT(r.stats().bytes_held, 0u);  // the spans are still counted as held
  churn_large_blocks(r);
  EXPECT_EQ(counting.allocate_calls(), 0u);  // nor any large block aligned to at most a page
  r.release_unused();  // the kept ones go: the next block is a mapping of its own
  // One 128 KiB block allocated and freed 100 times: one mapping, kept, pages and all.
  void* first = r.allocate(128 * 1024, 64);
  std::memset(first, 1, 128 * 1024);
  r.deallocate(first, 128 * 1024, 64);
  for (int i = 0; i < 100; ++i) {
    void* p = r.allocate(128 * 1024, 64);
    EXPECT_EQ(p, first);
    r.deallocate(p, 128 * 1024, 64);
  }
  EXPECT_TRUE(page_resident(first));
  EXPECT_GE(r.stats().classes.back().bytes_held, 128u * 1024);  // kept blocks count as held
  r.release_unused();
  EXPECT_FALSE(page_resident(first));  // given back to the kernel
  EXPECT_EQ(r.stats().classes.back().bytes_held, 0u);
  // An alignment no mapping of its own has still goes to the default resource.
  void* aligned = r.allocate(100000, 8192);
  EXPECT_EQ(counting.allocate_calls(), 1u);
  r.deallocate(aligned, 100000, 8192);
  EXPECT_EQ(counting.outstanding_blocks(), 0u);
  EXPECT_THROW(r.allocate(static_cast<std::size_t>(-1) - 100, 64), std::bad_alloc);
  EXPECT_EQ(r.stats().classes.back().bytes_held, 0u);
}

TEST(ScalableSpanSource, AGivenUpstreamServesEveryLargeBlock) {
  test_upstream up;
  scalable_resource r(kUnchecked, &up);
  churn_large_blocks(r);
  EXPECT_EQ(up.allocate_calls(), 40u);  // one upstream block each, none kept
  EXPECT_EQ(up.outstanding_bytes(), r.stats().bytes_held);
  r.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ScalableSpanSource, AGivenUpstreamServesTheSpansAsBefore) {
  test_upstream up;
  scalable_resource r(kUnchecked, &up);
  EXPECT_FALSE(r.spans_from_os());
  churn_small_blocks(r);
  EXPECT_GT(up.allocate_calls(), 0u);
  EXPECT_EQ(up.outstanding_bytes(), r.stats().bytes_held);
  r.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ScalableSpanSource, PresetsAndLayoutsWithoutAnUpstreamUseTheOs) {
  auto preset = make_preset("scalable");
  auto* s = dynamic_cast<scalable_resource*>(preset.get());
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->spans_from_os());
  churn_small_blocks(*preset);

  test_upstream up;
  auto given = make_preset("scalable", &up);
  EXPECT_FALSE(dynamic_cast<scalable_resource&>(*given).spans_from_os());
  churn_small_blocks(*given);
  EXPECT_GT(up.allocate_calls(), 0u);
  given.reset();
  EXPECT_EQ(up.outstanding_blocks(), 0u);

  // new_delete_resource() named explicitly is a user's upstream like any other.
  auto named = make_preset("scalable", std::pmr::new_delete_resource());
  EXPECT_FALSE(dynamic_cast<scalable_resource&>(*named).spans_from_os());
}

TEST(ScalableSpanSource, ReleaseUnusedGivesEmptiedSpansBackToTheOs) {
  scalable_resource r(kUnchecked);
  churn_small_blocks(r);
  r.release_unused();
  EXPECT_EQ(r.stats().bytes_held, 0u);
  churn_small_blocks(r);  // the ranges given back are reused
  r.release();
  EXPECT_EQ(r.stats().bytes_held, 0u);
}

}  // namespace
}  // namespace allocbench
