// Where scalable_resource's spans come from: its own os_span_source when it is built without an
// upstream (constructor, presets and layouts with none named), exactly the given upstream otherwise.
#include <gtest/gtest.h>

#include <memory>
#include <memory_resource>
#include <vector>

#include "pmr/testing/default_resource_guard.h"
#include "pmr/presets.h"
#include "pmr/scalable_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

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

TEST(ScalableSpanSource, WithoutAnUpstreamSpansComeFromTheOsAndLargeBlocksFromTheDefault) {
  test_upstream counting;
  const testing::default_resource_guard scope(&counting);
  scalable_resource r(kUnchecked);
  EXPECT_TRUE(r.spans_from_os());
  churn_small_blocks(r);
  EXPECT_EQ(counting.allocate_calls(), 0u);  // no span went to the default resource
  EXPECT_GT(r.stats().bytes_held, 0u);  // the spans are still counted as held
  void* big = r.allocate(r.max_size() + 1, 8);
  EXPECT_EQ(counting.allocate_calls(), 1u);
  r.deallocate(big, r.max_size() + 1, 8);
  EXPECT_EQ(counting.outstanding_blocks(), 0u);
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
