// Timestamps of recorded events: the TSC (rdtsc). A free's timestamp is later than the allocation
// whose pointer it received from another thread, and an allocation that reuses a freed address is
// later than that free, since passing a pointer between threads takes far longer than the few dozen
// cycles by which the processor may execute rdtsc early: merging the threads' streams by time keeps
// the program's order (block_resolver.h, which counts any exception as an unmatched free). rdtscp,
// which waits for the instructions before it, cost twice as much here (65 against 34 ns measured
// under load on the 2-core VM), on every event.
#pragma once

#include <cstdint>
#include <ctime>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace allocbench::trace {

inline std::uint64_t ticks_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
#endif
}

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

inline std::uint64_t unix_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
}

// The tick rate between two (ticks, monotonic ns) readings. A recording measures it over its whole
// life; one shorter than `min_ns` first waits (spinning) that long, so that the rate is good to ~0.1 %.
struct clock_mark {
  std::uint64_t ticks, ns;
};
inline clock_mark clock_mark_now() noexcept { return {ticks_now(), monotonic_ns()}; }
inline std::uint64_t clock_hz_since(const clock_mark& start, std::uint64_t min_ns = 2000000) noexcept {
  clock_mark end = clock_mark_now();
  while (end.ns - start.ns < min_ns) end = clock_mark_now();
  return std::uint64_t(double(end.ticks - start.ticks) * 1e9 / double(end.ns - start.ns));
}

}  // namespace allocbench::trace
