// A shared live-bytes total fed by sampled deltas, and its high-water mark.
//
// scalable_resource keeps its per-operation counts in each thread's cache (plain fields of one
// writer); it does not touch a shared counter per call. Instead each thread publishes the change of its
// live bytes here on its slow paths (cache refills and flushes, large blocks, threads without a cache),
// and stats() raises the peak to the exact live figure it computes. So the peak is a sampled one: it
// can miss a high point by at most what the threads allocated since their last sample, which is at
// most one cache's worth (a refill batch per class) per thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace allocbench::detail {

class live_bytes_peak {
 public:
  void add(std::int64_t delta) noexcept {
    observe(total_.fetch_add(delta, std::memory_order_relaxed) + delta);
  }

  void observe(std::int64_t live) noexcept {
    std::int64_t seen = peak_.load(std::memory_order_relaxed);
    while (live > seen && !peak_.compare_exchange_weak(seen, live, std::memory_order_relaxed)) {
    }
  }

  std::int64_t peak() const noexcept { return peak_.load(std::memory_order_relaxed); }

  // After release(): nothing is live; the peak stays.
  void forget_live() noexcept { total_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> total_{0};
  std::atomic<std::int64_t> peak_{0};
};

}  // namespace allocbench::detail
