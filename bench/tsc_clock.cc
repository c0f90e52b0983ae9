#include "bench/tsc_clock.h"

namespace allocbench::bench {

double tsc_ns_per_tick() {
  static const double rate = [] {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    const std::uint64_t c0 = tsc_now();
    while (clock::now() - t0 < std::chrono::milliseconds(20)) {
    }
    const auto t1 = clock::now();
    const std::uint64_t c1 = tsc_now();
    const double ns = double(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    return c1 > c0 ? ns / double(c1 - c0) : 1.0;
  }();
  return rate;
}

double tsc_floor_ns() {
  std::uint64_t best = UINT64_MAX;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t t0 = tsc_now();
    const std::uint64_t t1 = tsc_now();
    if (t1 - t0 < best) best = t1 - t0;
  }
  return double(best) * tsc_ns_per_tick();
}

}  // namespace allocbench::bench
