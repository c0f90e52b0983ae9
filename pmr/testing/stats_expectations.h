// Expectations on resource_stats shared by the resources' tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "pmr/resource_stats.h"

namespace allocbench::testing {

// Every counter that a failed call must leave alone, per class too.
inline void expect_same_counts(const resource_stats& before, const resource_stats& after) {
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.deallocations, before.deallocations);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  EXPECT_EQ(after.live_requested_bytes, before.live_requested_bytes);
  EXPECT_EQ(after.live_usable_bytes, before.live_usable_bytes);
  EXPECT_EQ(after.total_requested_bytes, before.total_requested_bytes);
  EXPECT_EQ(after.total_usable_bytes, before.total_usable_bytes);
  EXPECT_EQ(after.peak_live_bytes, before.peak_live_bytes);
  EXPECT_EQ(after.bytes_held, before.bytes_held);
  ASSERT_EQ(after.classes.size(), before.classes.size());
  for (std::size_t i = 0; i < after.classes.size(); ++i) {
    EXPECT_EQ(after.classes[i].allocations, before.classes[i].allocations) << "class " << i;
    EXPECT_EQ(after.classes[i].deallocations, before.classes[i].deallocations) << "class " << i;
    EXPECT_EQ(after.classes[i].bytes_held, before.classes[i].bytes_held) << "class " << i;
  }
}

}  // namespace allocbench::testing
