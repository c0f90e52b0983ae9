#include "allocator/fast_class_lookup.h"

#include <gtest/gtest.h>

#include <cstddef>

namespace allocbench::detail {
namespace {

std::size_t offset_of_class(const size_class_map& map, std::size_t bytes) {
  return scalable_thread_cache::list_offset(map.class_of(bytes));
}

TEST(FastClassLookup, EverySizeUpToTheLimitFindsItsClassList) {
  const size_class_map map({});
  const fast_class_lookup lookup(map, true);
  ASSERT_EQ(lookup.bound(), fast_class_lookup::kDirectLimit + 1);
  for (std::size_t bytes = 0; bytes < lookup.bound(); ++bytes) {
    ASSERT_EQ(lookup.list_offset(bytes), offset_of_class(map, bytes)) << bytes << " bytes";
  }
}

TEST(FastClassLookup, BoundStopsAtTheLargestClassOrTheTableAndIsZeroWhenDisabled) {
  size_class_params small;
  small.max_small = 1024;
  const size_class_map map(small);
  EXPECT_EQ(fast_class_lookup(map, true).bound(), 1025u);
  EXPECT_EQ(fast_class_lookup(map, false).bound(), 0u);
  EXPECT_EQ(fast_class_lookup(size_class_map({}), true).bound(), fast_class_lookup::kDirectLimit + 1);
}

TEST(FastClassLookup, AlignmentFitsRejectsZeroNonPowersAndTooLarge) {
  // The figures a thread cache's list keeps for its class (scalable_thread_cache's constructor).
  const size_class_map map({});
  const scalable_thread_cache cache(map);
  const thread_class_list& l80 = cache.lists[map.class_of(80)];
  EXPECT_EQ(l80.block_alignment, 16u);
  EXPECT_TRUE(alignment_fits(1, l80.reject_mask));
  EXPECT_TRUE(alignment_fits(16, l80.reject_mask));
  EXPECT_FALSE(alignment_fits(32, l80.reject_mask));
  EXPECT_FALSE(alignment_fits(0, l80.reject_mask));
  EXPECT_FALSE(alignment_fits(3, l80.reject_mask));
  EXPECT_FALSE(alignment_fits(12, l80.reject_mask));
  const thread_class_list& l64 = cache.lists[map.class_of(64)];
  EXPECT_EQ(l64.block_alignment, 64u);
  EXPECT_TRUE(alignment_fits(64, l64.reject_mask));
  EXPECT_FALSE(alignment_fits(128, l64.reject_mask));
  EXPECT_FALSE(alignment_fits(std::size_t(1) << 63, l64.reject_mask));
}

}  // namespace
}  // namespace allocbench::detail
