// The soak's judgement: a least-squares line through samples of bytes held, and whether the held
// bytes stay bounded over the steady state.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace allocbench::soak {

struct sample {
  double t;      // seconds since the start
  double value;  // bytes
};

// The least-squares slope (value per second) through the samples; 0 for fewer than two distinct t.
double least_squares_slope(const std::vector<sample>& samples);

struct trend {
  std::size_t samples = 0;       // in the steady state
  double slope = 0;              // bytes per second, least squares
  double mean = 0;               // mean held bytes over the steady state
  double window_seconds = 0;     // from its first to its last sample
  double growth_fraction = 0;    // slope * window / mean: the growth the line shows over the window
  double percent_per_minute = 0; // slope * 60 / mean * 100
  bool bounded = false;
};

// The verdict's criterion, as printed: the line through the steady state (the second half of the
// samples) must rise by less than this fraction of the mean held bytes over that window.
inline constexpr double kBoundedGrowth = 0.02;

// The steady state is the second half of the samples (a warm-up fills caches and spans first).
trend steady_state_trend(const std::vector<sample>& all);

}  // namespace allocbench::soak
