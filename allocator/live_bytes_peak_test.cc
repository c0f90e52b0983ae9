#include "allocator/live_bytes_peak.h"

#include <gtest/gtest.h>

namespace allocbench::detail {
namespace {

TEST(LiveBytesPeak, PeakFollowsTheHighestTotal) {
  live_bytes_peak p;
  p.add(100);
  p.add(50);
  p.add(-120);
  EXPECT_EQ(p.peak(), 150);
  p.observe(140);
  EXPECT_EQ(p.peak(), 150);
  p.observe(170);
  EXPECT_EQ(p.peak(), 170);
  p.forget_live();
  p.add(10);
  EXPECT_EQ(p.peak(), 170);
}

}  // namespace
}  // namespace allocbench::detail
