#include "allocator/resident_allowance.h"

#include <gtest/gtest.h>

namespace allocbench::detail {
namespace {

std::uint64_t g_now_ms = 5000;
std::uint64_t test_clock() noexcept { return g_now_ms; }

constexpr std::size_t kFloor = 100;

resident_allowance with_test_clock(bool up_to_peak) {
  resident_allowance a(kFloor, up_to_peak);
  a.set_clock(&test_clock);
  return a;
}

TEST(ResidentAllowance, FreeBytesMayFillUpToThePeakOfBytesInUse) {
  resident_allowance a = with_test_clock(true);
  a.taken(1000);
  a.given(600);
  EXPECT_EQ(a.peak_bytes(), 1000u);
  EXPECT_TRUE(a.may_keep(0, 600));
  EXPECT_FALSE(a.may_keep(1, 600));
  EXPECT_EQ(a.excess(600), 0u);
  EXPECT_EQ(a.excess(700), 100u);
  // In use again: the headroom shrinks with it.
  a.taken(500);
  EXPECT_EQ(a.peak_bytes(), 1000u);
  EXPECT_EQ(a.excess(600), 500u);
}

TEST(ResidentAllowance, ThePeakHalvesPerDecayPeriodOnceBelowItButNotBelowInUse) {
  resident_allowance a = with_test_clock(true);
  a.taken(8000);
  a.given(7000);
  g_now_ms += resident_allowance::kDecayMs - 1;
  a.taken(0);
  EXPECT_EQ(a.peak_bytes(), 8000u);
  g_now_ms += 1;
  a.taken(0);
  EXPECT_EQ(a.peak_bytes(), 4000u);
  g_now_ms += 2 * resident_allowance::kDecayMs;
  a.given(0);
  EXPECT_EQ(a.peak_bytes(), 1000u);  // 4000 / 4, and in use is 1000
  g_now_ms += 100 * resident_allowance::kDecayMs;
  a.given(0);
  EXPECT_EQ(a.peak_bytes(), 1000u);
  EXPECT_EQ(a.excess(kFloor + 1), 1u);  // the floor is all that is left
}

TEST(ResidentAllowance, AtThePeakTheDecayClockRestarts) {
  resident_allowance a = with_test_clock(true);
  a.taken(1000);
  g_now_ms += 10 * resident_allowance::kDecayMs;
  a.taken(1000);  // a new peak: no decay for the time spent growing
  a.given(1000);
  EXPECT_EQ(a.peak_bytes(), 2000u);
}

TEST(ResidentAllowance, WithoutThePeakOnlyTheFloorIsAllowed) {
  resident_allowance a = with_test_clock(false);
  a.taken(1000);
  a.given(1000);
  EXPECT_TRUE(a.may_keep(0, kFloor));
  EXPECT_FALSE(a.may_keep(0, kFloor + 1));
  EXPECT_EQ(a.excess(kFloor + 50), 50u);
}

}  // namespace
}  // namespace allocbench::detail
