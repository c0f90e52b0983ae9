// Whole batches of free blocks parked in a central list shard, as the thread caches flushed them, so
// that the next refill takes one back whole.
//
// Why: giving a batch to the spans walks it block by block (each block goes onto its span's free
// list), and taking a batch from the spans walks their free lists, reading each block's next pointer
// after another core wrote it: 32 dependent cache misses, several microseconds, all under the shard's
// lock. On cross_thread (every free remote) that made each lock hold long enough for the other
// threads to pile up behind it. A parked batch moves in and out in O(1): head, tail and count.
// (tcmalloc's transfer cache does the same job with arrays of pointers.)
//
// Not synchronised: class_central_list keeps one per shard, behind the shard's lock. The blocks of a
// parked batch are free but not on any span's free list, so the spans count them as in use until
// the batch is taken or drained back (release_unused drains first).
#pragma once

#include <cstddef>

#include "allocator/span_arena.h"  // block_chain

namespace allocbench::detail {

class transfer_stack {
 public:
  static constexpr std::size_t kCapacity = 8;  // batches; a few are enough to absorb a flush-refill swing

  bool empty() const noexcept { return size_ == 0; }

  // Parks `chain` (count >= 1, tail's next pointer ignored); false when the stack is full.
  bool push(const block_chain& chain) noexcept {
    if (size_ == kCapacity) return false;
    chains_[size_++] = chain;
    return true;
  }

  // The most recently parked batch (its blocks are the likeliest to be in some cache still).
  block_chain pop() noexcept { return chains_[--size_]; }

 private:
  block_chain chains_[kCapacity];
  std::size_t size_ = 0;
};

}  // namespace allocbench::detail
