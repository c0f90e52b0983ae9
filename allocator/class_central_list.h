// The central free list of one size class: its span_arena behind its own lock.
//
// Thread caches refill from it and flush to it in batches (block_chain), so a thread takes a class's
// lock about once per batch; threads working on different classes never share a lock, and no lock is
// shared by every class. Refills from upstream happen under the class's lock only, so upstream calls
// of different classes may run at once: the upstream must be thread-safe (the default one is).
#pragma once

#include <cstddef>
#include <memory_resource>

#include "allocator/counted_mutex.h"
#include "allocator/span_arena.h"
#include "allocator/stats_counters.h"

namespace allocbench::detail {

class class_central_list {
 public:
  class_central_list(std::size_t block_size, std::size_t block_alignment, std::size_t min_span_bytes,
                     std::pmr::memory_resource& upstream, stats_counters& counters) noexcept
      : counters_(&counters), arena_(block_size, block_alignment, min_span_bytes, upstream, counters) {}

  // Up to `n` blocks (at least one) onto `out`; see span_arena::take (an upstream throw propagates
  // with nothing changed).
  std::size_t take(block_chain& out, std::size_t n) {
    counted_lock lock(mu_, *counters_);
    return arena_.take(out, n);
  }

  // One block, for a thread that has no cache.
  void* take_one() {
    block_chain one;
    take(one, 1);
    return one.head;
  }

  // Gives back `count` blocks linked from `head` through their first words (a block_chain).
  void give(void* head, std::size_t count) noexcept {
    counted_lock lock(mu_, *counters_);
    for (std::size_t i = 0; i < count; ++i) {
      void* next = *static_cast<void**>(head);
      arena_.give(head);
      head = next;
    }
  }

  std::size_t release_unused() noexcept {
    counted_lock lock(mu_, *counters_);
    return arena_.release_unused();
  }
  void release_all() noexcept {
    counted_lock lock(mu_, *counters_);
    arena_.release_all();
  }

  std::size_t bytes_held() const noexcept { return arena_.bytes_held(); }
  std::size_t span_bytes() const noexcept { return arena_.span_bytes(); }
  std::size_t blocks_per_span() const noexcept { return arena_.blocks_per_span(); }

 private:
  stats_counters* counters_;
  counted_mutex mu_;
  span_arena arena_;  // guarded by mu_
};

}  // namespace allocbench::detail
