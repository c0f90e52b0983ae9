// Statistics counters that do not serialise threads.
//
// Counts go to one of kShards cache-line-sized shards picked by a per-thread ordinal, with relaxed
// atomic adds: threads on different shards never share a cache line, and a read sums the shards.
//
// Peak live bytes cannot be exact without a global serialisation point, so each shard keeps its
// allocations' bytes "unpublished" until they reach kPublishBytes, then adds them to one shared total.
// A free takes its bytes from its shard's unpublished bytes and, where they fall short, the rest from
// the shared total at once: no shard's unpublished figure is ever negative, so the shared total plus
// any one shard's unpublished bytes never exceeds what is live. (A shard that kept its frees
// unpublished let another shard's allocations raise the peak above anything that was ever live.) An
// allocate raises the peak to (shared total + its own shard's unpublished bytes). With one thread
// that sum is the exact live figure, so the peak is exact; with several it can miss at most
// kPublishBytes per other shard.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "pmr/resource_stats.h"

namespace allocbench::detail {

inline constexpr std::size_t kCacheLine = 64;

// The calling thread's small ordinal (0, 1, 2, ... in order of first use), shared by every resource.
unsigned this_thread_ordinal() noexcept;

// a - b for two counts read while other threads run: a free can be counted before its allocation is
// seen, so the difference is clamped at zero.
inline std::uint64_t clamped_diff(std::uint64_t a, std::uint64_t b) noexcept { return a > b ? a - b : 0; }

// Fills out's live and total figures from what flowed in and out (out.allocations and
// out.deallocations already summed): live_* are the clamped differences, live_bytes the usable ones.
inline void fill_flow_figures(resource_stats& out, std::uint64_t requested_in, std::uint64_t requested_out,
                              std::uint64_t usable_in, std::uint64_t usable_out) noexcept {
  out.live_blocks = clamped_diff(out.allocations, out.deallocations);
  out.live_requested_bytes = clamped_diff(requested_in, requested_out);
  out.live_usable_bytes = clamped_diff(usable_in, usable_out);
  out.live_bytes = out.live_usable_bytes;
  out.total_requested_bytes = requested_in;
  out.total_usable_bytes = usable_in;
}

class stats_counters {
 public:
  static constexpr unsigned kShards = 16;
  static constexpr std::int64_t kPublishBytes = 64 * 1024;

  void on_allocate(std::size_t requested, std::size_t usable) noexcept {
    shard& s = local_shard();
    s.allocations.fetch_add(1, std::memory_order_relaxed);
    s.requested_in.fetch_add(requested, std::memory_order_relaxed);
    s.usable_in.fetch_add(usable, std::memory_order_relaxed);
    const std::int64_t pending =
        s.unpublished.fetch_add(std::int64_t(usable), std::memory_order_relaxed) + std::int64_t(usable);
    std::int64_t total = published_.load(std::memory_order_relaxed);
    if (pending >= kPublishBytes) [[unlikely]] {
      total = publish(s, pending);
      raise(peak_live_, total);
    } else {
      raise(peak_live_, total + pending);
    }
  }

  void on_deallocate(std::size_t requested, std::size_t usable) noexcept {
    shard& s = local_shard();
    s.deallocations.fetch_add(1, std::memory_order_relaxed);
    s.requested_out.fetch_add(requested, std::memory_order_relaxed);
    s.usable_out.fetch_add(usable, std::memory_order_relaxed);
    const std::int64_t u = std::int64_t(usable);
    std::int64_t pending = s.unpublished.load(std::memory_order_relaxed);
    while (true) {
      if (pending >= u) {
        if (s.unpublished.compare_exchange_weak(pending, pending - u, std::memory_order_relaxed)) return;
        continue;
      }
      // Short: the rest leaves the shared total first, so that no sum of it and a shard's figure
      // is ever above the live bytes, even for a moment.
      const std::int64_t rest = u - pending;
      published_.fetch_sub(rest, std::memory_order_relaxed);
      if (s.unpublished.compare_exchange_weak(pending, 0, std::memory_order_relaxed)) return;
      published_.fetch_add(rest, std::memory_order_relaxed);  // the shard changed meanwhile: again
    }
  }

  void on_contention() noexcept { contention_.fetch_add(1, std::memory_order_relaxed); }

  void on_upstream_acquire(std::size_t bytes) noexcept {
    raise(peak_held_, held_.fetch_add(std::int64_t(bytes), std::memory_order_relaxed) +
                          std::int64_t(bytes));
  }
  void on_upstream_release(std::size_t bytes) noexcept {
    held_.fetch_sub(std::int64_t(bytes), std::memory_order_relaxed);
  }

  // Fills every field of `out` except `classes`.
  void fill(resource_stats& out) const noexcept;

  // After release(): every block handed out is gone, so the live figures drop to zero (the blocks
  // count as deallocated); allocation totals and peaks stay.
  void forget_live() noexcept;

 private:
  struct alignas(kCacheLine) shard {
    std::atomic<std::uint64_t> allocations{0};
    std::atomic<std::uint64_t> deallocations{0};
    std::atomic<std::uint64_t> requested_in{0};
    std::atomic<std::uint64_t> requested_out{0};
    std::atomic<std::uint64_t> usable_in{0};
    std::atomic<std::uint64_t> usable_out{0};
    std::atomic<std::int64_t> unpublished{0};
  };

  shard& local_shard() noexcept { return shards_[this_thread_ordinal() % kShards]; }

  std::int64_t publish(shard& s, std::int64_t /*pending*/) noexcept {
    // Everything the shard holds moves to the shared total, taken first: the sum is never above
    // the live bytes meanwhile, and the shard never goes negative whatever other threads on the
    // same shard do.
    const std::int64_t taken = s.unpublished.exchange(0, std::memory_order_relaxed);
    return published_.fetch_add(taken, std::memory_order_relaxed) + taken;
  }

  static void raise(std::atomic<std::int64_t>& peak, std::int64_t value) noexcept {
    std::int64_t seen = peak.load(std::memory_order_relaxed);
    while (value > seen && !peak.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }

  shard shards_[kShards];
  alignas(kCacheLine) std::atomic<std::int64_t> published_{0};
  std::atomic<std::int64_t> peak_live_{0};
  alignas(kCacheLine) std::atomic<std::int64_t> held_{0};
  std::atomic<std::int64_t> peak_held_{0};
  std::atomic<std::uint64_t> contention_{0};
};

}  // namespace allocbench::detail
