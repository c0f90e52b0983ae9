#include "tools/soak_run/trend.h"

namespace allocbench::soak {

double least_squares_slope(const std::vector<sample>& samples) {
  const double n = double(samples.size());
  if (samples.size() < 2) return 0;
  double mean_t = 0, mean_v = 0;
  for (const sample& s : samples) mean_t += s.t, mean_v += s.value;
  mean_t /= n;
  mean_v /= n;
  double num = 0, den = 0;
  for (const sample& s : samples) {
    num += (s.t - mean_t) * (s.value - mean_v);
    den += (s.t - mean_t) * (s.t - mean_t);
  }
  return den > 0 ? num / den : 0;
}

trend steady_state_trend(const std::vector<sample>& all) {
  trend r;
  const std::vector<sample> steady(all.begin() + all.size() / 2, all.end());
  r.samples = steady.size();
  if (steady.empty()) return r;
  for (const sample& s : steady) r.mean += s.value;
  r.mean /= double(steady.size());
  r.slope = least_squares_slope(steady);
  r.window_seconds = steady.back().t - steady.front().t;
  if (r.mean > 0) {
    r.growth_fraction = r.slope * r.window_seconds / r.mean;
    r.percent_per_minute = r.slope * 60 / r.mean * 100;
  }
  // Two samples at least: one cannot show a trend either way.
  r.bounded = steady.size() >= 2 && r.growth_fraction < kBoundedGrowth;
  return r;
}

}  // namespace allocbench::soak
