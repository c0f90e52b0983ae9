// A std::mutex that counts contention: an acquisition whose first try_lock fails is one contention
// event in the resource's stats_counters, then it blocks as a plain lock would.
//
// The uncontended path is one try_lock (the same atomic exchange lock() would do), so counting costs
// nothing until threads actually collide. The counter is bumped before blocking, which also lets a test
// see that a thread has reached the blocking point.
#pragma once

#include <mutex>

#include "allocator/stats_counters.h"

namespace allocbench::detail {

class counted_mutex {
 public:
  void lock(stats_counters& counters) {
    if (!mu_.try_lock()) [[unlikely]] lock_contended(counters);
  }
  bool try_lock() noexcept { return mu_.try_lock(); }
  void unlock() noexcept { mu_.unlock(); }

 private:
  [[gnu::noinline]] void lock_contended(stats_counters& counters) {
    counters.on_contention();
    mu_.lock();
  }

  std::mutex mu_;
};

// Scoped ownership of a counted_mutex (std::lock_guard cannot pass the counters along).
class [[nodiscard]] counted_lock {
 public:
  counted_lock(counted_mutex& mu, stats_counters& counters) : mu_(mu) { mu_.lock(counters); }
  ~counted_lock() { mu_.unlock(); }
  counted_lock(const counted_lock&) = delete;
  counted_lock& operator=(const counted_lock&) = delete;

 private:
  counted_mutex& mu_;
};

}  // namespace allocbench::detail
