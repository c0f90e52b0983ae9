#include "allocator/stats_counters.h"

namespace allocbench::detail {

unsigned this_thread_ordinal() noexcept {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned ordinal = next.fetch_add(1, std::memory_order_relaxed);
  return ordinal;
}

void stats_counters::fill(resource_stats& out) const noexcept {
  std::uint64_t req_in = 0, req_out = 0, use_in = 0, use_out = 0;
  out.allocations = out.deallocations = 0;
  for (const shard& s : shards_) {
    out.allocations += s.allocations.load(std::memory_order_relaxed);
    out.deallocations += s.deallocations.load(std::memory_order_relaxed);
    req_in += s.requested_in.load(std::memory_order_relaxed);
    req_out += s.requested_out.load(std::memory_order_relaxed);
    use_in += s.usable_in.load(std::memory_order_relaxed);
    use_out += s.usable_out.load(std::memory_order_relaxed);
  }
  fill_flow_figures(out, req_in, req_out, use_in, use_out);
  const std::int64_t peak = peak_live_.load(std::memory_order_relaxed);
  out.peak_live_bytes = peak > 0 ? std::uint64_t(peak) : 0;
  if (out.peak_live_bytes < out.live_bytes) out.peak_live_bytes = out.live_bytes;
  const std::int64_t held = held_.load(std::memory_order_relaxed);
  out.bytes_held = held > 0 ? std::uint64_t(held) : 0;
  const std::int64_t peak_held = peak_held_.load(std::memory_order_relaxed);
  out.peak_bytes_held = peak_held > 0 ? std::uint64_t(peak_held) : 0;
  out.contention_events = contention_.load(std::memory_order_relaxed);
}

void stats_counters::forget_live() noexcept {
  std::int64_t unpublished = 0;
  for (shard& s : shards_) {
    s.deallocations.store(s.allocations.load(std::memory_order_relaxed), std::memory_order_relaxed);
    s.requested_out.store(s.requested_in.load(std::memory_order_relaxed), std::memory_order_relaxed);
    s.usable_out.store(s.usable_in.load(std::memory_order_relaxed), std::memory_order_relaxed);
    unpublished += s.unpublished.exchange(0, std::memory_order_relaxed);
  }
  (void)unpublished;
  published_.store(0, std::memory_order_relaxed);
}

}  // namespace allocbench::detail
