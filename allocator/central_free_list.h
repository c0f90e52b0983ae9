// A block_pool shared by every thread: one counted mutex around it, plus the batch moves that
// per-thread caches use so that they take the lock once per batch instead of once per block.
//
// Every upstream call happens under the lock, so the upstream need not be thread-safe.
#pragma once

#include <cstddef>
#include <memory_resource>

#include "allocator/block_pool.h"
#include "allocator/counted_mutex.h"
#include "allocator/free_list.h"
#include "allocator/stats_counters.h"

namespace allocbench::detail {

class central_free_list {
 public:
  central_free_list(block_geometry geometry, std::size_t chunk_bytes,
                    std::pmr::memory_resource& upstream, stats_counters& counters) noexcept
      : pool_(geometry, chunk_bytes, upstream, counters), counters_(&counters) {}

  // One block; refills from upstream when the pool is empty (an upstream throw propagates, nothing
  // changed).
  void* pop() {
    counted_lock lock(mu_, *counters_);
    if (void* p = pool_.pop()) [[likely]] return p;
    return refill_and_pop();
  }

  void push(void* block) noexcept {
    counted_lock lock(mu_, *counters_);
    pool_.push(block);
  }

  // Moves up to `count` (at least one) blocks into `to`, refilling from upstream only when the pool
  // has none at all: a short batch now beats a refill that may not be needed. Returns how many moved.
  std::size_t pop_batch(free_list& to, std::size_t count);

  // Moves `count` blocks (or all, if fewer) from `from` back to the pool.
  void push_batch(free_list& from, std::size_t count) noexcept;

  // Gives every chunk back to upstream.
  void release() noexcept;

  // Blocks available without a refill (taken under the lock).
  std::size_t free_count();
  std::size_t bytes_held() const noexcept { return pool_.bytes_held(); }
  std::size_t blocks_per_chunk() const noexcept { return pool_.blocks_per_chunk(); }

 private:
  // Called with the lock held.
  [[gnu::noinline]] void* refill_and_pop();

  counted_mutex mu_;
  block_pool pool_;  // guarded by mu_
  stats_counters* counters_;
};

}  // namespace allocbench::detail
