// Cycle-counter timestamps for sampled per-call latency: reading the TSC costs a few nanoseconds,
// steady_clock tens, and one operation in 1024 is timed, so the cheap counter keeps harness overhead
// out of the throughput. Ticks are converted to nanoseconds with a rate calibrated once per process
// against steady_clock.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace allocbench::bench {

inline std::uint64_t tsc_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  // The fences keep the timed call from being reordered around the reads.
  _mm_lfence();
  const std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
  return std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Nanoseconds per tick, measured once (about 20 ms) on first use.
double tsc_ns_per_tick();

// The smallest interval two back-to-back timestamps show, in ns: the timer's own share of every
// sampled latency (reported beside the latencies, not subtracted from them).
double tsc_floor_ns();

}  // namespace allocbench::bench
