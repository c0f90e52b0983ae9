// Measures a peer allocator's overhead ratio and peak live bytes in a separate, untimed pass: it asks
// the library's usable-size call about every block, which would distort a timed run. (Our resources
// count this themselves, in stats().)
#pragma once

#include <atomic>
#include <cstdint>

#include "allocator/request.h"

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

class usage_probe final : public std::pmr::memory_resource {
 public:
  explicit usage_probe(peer_resource& target) : target_(&target) {}

  double overhead_ratio() const {
    const double req = double(requested_.load());
    return req == 0 ? 1.0 : double(usable_.load()) / req;
  }
  std::uint64_t peak_live_bytes() const { return peak_.load(); }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    // A size near SIZE_MAX must not reach a target that wraps it (allocator/request.h).
    allocbench::detail::check_upstream_request(bytes, alignment);
    void* p = target_->allocate(bytes, alignment);
    const std::uint64_t usable = target_->usable_size(p);
    requested_.fetch_add(bytes, std::memory_order_relaxed);
    usable_.fetch_add(usable, std::memory_order_relaxed);
    const std::uint64_t now = live_.fetch_add(usable, std::memory_order_relaxed) + usable;
    std::uint64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    live_.fetch_sub(target_->usable_size(p), std::memory_order_relaxed);
    target_->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  peer_resource* target_;
  std::atomic<std::uint64_t> requested_{0}, usable_{0}, live_{0}, peak_{0};
};

}  // namespace allocbench::bench
