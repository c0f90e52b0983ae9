#include "tools/soak_run/trend.h"

#include <gtest/gtest.h>

namespace allocbench::soak {
namespace {

TEST(LeastSquaresSlope, ExactOnALine) {
  EXPECT_DOUBLE_EQ(least_squares_slope({{0, 10}, {1, 13}, {2, 16}, {3, 19}}), 3.0);
}

TEST(LeastSquaresSlope, ZeroForTooFewPoints) {
  EXPECT_EQ(least_squares_slope({}), 0);
  EXPECT_EQ(least_squares_slope({{1, 5}}), 0);
  EXPECT_EQ(least_squares_slope({{1, 5}, {1, 9}}), 0);
}

TEST(SteadyStateTrend, AWarmUpThenAPlateauIsBounded) {
  std::vector<sample> s;
  for (int t = 0; t < 10; ++t) s.push_back({double(t), 1e6 * t});  // warm-up: steep
  for (int t = 10; t < 20; ++t) s.push_back({double(t), 1e7 + (t % 2) * 1e4});
  const trend r = steady_state_trend(s);
  EXPECT_EQ(r.samples, 10u);
  EXPECT_TRUE(r.bounded) << r.growth_fraction;
}

TEST(SteadyStateTrend, SteadyGrowthIsNotBounded) {
  std::vector<sample> s;
  for (int t = 0; t < 20; ++t) s.push_back({double(t), 1e7 + 1e5 * t});  // 1 %/s
  const trend r = steady_state_trend(s);
  EXPECT_NEAR(r.slope, 1e5, 1e-3);
  EXPECT_FALSE(r.bounded) << r.growth_fraction;
  EXPECT_GT(r.percent_per_minute, 30);
}

TEST(SteadyStateTrend, OneSampleIsNoVerdictOfBounded) {
  EXPECT_FALSE(steady_state_trend({{0, 1}}).bounded);
}

}  // namespace
}  // namespace allocbench::soak
