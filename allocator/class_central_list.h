// The central free list of one size class: a few shards, each a span_arena behind its own lock.
//
// Thread caches refill from it and flush to it in batches (block_chain), so a thread takes a lock
// about once per batch; threads working on different classes never share a lock, and no lock is
// shared by every class. Upstream calls happen under no lock of ours (a shard's lock is let go while a
// span is fetched), so upstream calls may run at once: the upstream must be thread-safe (the default
// one is).
//
// Why shards: each thread cache refills from its own shard (thread_cache::shard, handed out round
// robin), so two threads running at once get their blocks from different spans. With one shared
// arena, blocks flushed by one thread were handed to another, and after a while neighbouring small
// blocks (four 16-byte blocks share a 64-byte line) belonged to different threads: every write then
// pulled the line from the other core. Measured on rl_small at 2 threads (2 cores): one arena ran at
// ~110 Mops/s (no faster than 1 thread) in most processes, 64-byte-only classes at ~180.
//
// A thread's flushed batch is parked whole in the thread's own shard (transfer_stack.h) and is
// usually what its next refill takes back: O(1) under the lock, and the blocks stay with the thread
// that last touched them. A flush that finds its shard's parking full parks the batch in an empty
// parking of one of the next few shards (park_nearby), where the shard's own refills find it (threads
// that run in turns free in bursts of several batches; the spans would take each block by block).
// A refill that finds its shard's parking empty looks at a few other shards' (take_parked_nearby,
// only those whose hint says a batch is parked) before its own spans:
// a thread whose frees outrun its allocations feeds the others. A refill whose shard's spans are
// empty too takes blocks given back to another shard's spans before it fetches a span
// (take_listed_elsewhere; classes of whole cache lines only).
// Blocks given one by one (a full stack, a drain, release_unused) go back to the span they came
// from, whichever thread gives them.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <vector>

#include "allocator/counted_mutex.h"
#include "allocator/span_arena.h"
#include "allocator/transfer_stack.h"
#include "allocator/stats_counters.h"

namespace allocbench::detail {

class class_central_list {
 public:
  // `shards` >= 1 arenas, each growing by spans of at least min_span_bytes. Batches of up to
  // `parked_batch` blocks given with give_batch are parked whole (transfer_stack.h); 0: never.
  // `colour_spans`: span_arena's cache colouring.
  class_central_list(std::size_t block_size, std::size_t block_alignment, std::size_t min_span_bytes,
                     std::pmr::memory_resource& upstream, stats_counters& counters, std::size_t shards,
                     std::size_t parked_batch = 0, bool colour_spans = true);

  std::size_t shard_count() const noexcept { return count_; }
  // Whether `block` (one of this list's, held by the caller) was carved by shard `shard % shard_count()`:
  // for a thread cache, whether it is most likely a block the thread allocated itself. Reads the
  // block's span header, which no one writes after carving.
  bool carved_by(const void* block, std::size_t shard) const noexcept {
    return shards_[0]->arena.shard_of(const_cast<void*>(block)) == shard % count_;
  }

  // Blocks for shard `shard % shard_count()` onto `out`, from the first source that has some: when
  // `n` is at least parked_batch (a refill's size; a parked batch may be shorter), a batch parked in
  // that shard, then one parked in a nearby shard (take_parked_nearby); else or then up to `n` (at
  // least one) from the shard's spans; then blocks given back to another shard's spans
  // (take_listed_elsewhere); last a new span, see span_arena::take (an upstream throw propagates
  // with nothing changed). Returns how many were added.
  std::size_t take(block_chain& out, std::size_t n, std::size_t shard);

  // One block, for a thread that has no cache.
  void* take_one(std::size_t shard) {
    block_chain one;
    take(one, 1, shard);
    return one.head;
  }

  // Gives back `count` blocks linked from `head` through their first words (a block_chain), each to
  // the shard whose span holds it; a run of blocks of one shard takes its lock once.
  void give(void* head, std::size_t count) noexcept;

  // A thread cache's flush: parks the batch whole in shard `shard % shard_count()` when it has room
  // and the batch is no larger than parked_batch, or else in a nearby empty parking (park_nearby);
  // failing both, gives its blocks back as give() does.
  void give_batch(const block_chain& batch, std::size_t shard) noexcept;

  std::size_t release_unused() noexcept;
  void release_all() noexcept;

  std::size_t bytes_held() const noexcept;
  std::size_t span_bytes() const noexcept { return shards_[0]->arena.span_bytes(); }
  std::size_t blocks_per_span() const noexcept { return shards_[0]->arena.blocks_per_span(); }

  // Every shard's lock, in shard order, and back (scalable_heap::lock_for_fork).
  void lock_all() noexcept;
  void unlock_all() noexcept;

 private:
  // Each on its own cache lines: threads refilling different shards must not share the lock's line.
  struct alignas(kCacheLine) shard_state {
    shard_state(std::size_t block_size, std::size_t block_alignment, std::size_t min_span_bytes,
                std::pmr::memory_resource& upstream, stats_counters& counters, std::uint32_t tag,
                bool colour) noexcept
        : arena(block_size, block_alignment, min_span_bytes, upstream, counters, tag, colour) {}
    counted_mutex mu;
    transfer_stack parked;  // guarded by mu
    span_arena arena;       // guarded by mu
    // Whether arena.take_listed() would find blocks, as of the last locked change: read without the
    // lock by other shards' refills (take_listed_elsewhere), so that a refill does not try every
    // other shard's lock (an atomic write to a line another core owns) only to find nothing there.
    // On a line of its own, written only when it changes, so readers keep a shared copy. (On the
    // 2-core machine it measured level with trying every lock: inference_kv, 16 threads.)
    alignas(kCacheLine) std::atomic<bool> lendable{false};
    // Whether a batch is parked, the same way (take_parked_nearby, parked_nearby).
    std::atomic<bool> parking{false};

    void note_lendable() noexcept { note(lendable, arena.has_listed_block()); }
    void note_parking() noexcept { note(parking, !parked.empty()); }
    static void note(std::atomic<bool>& hint, bool now) noexcept {
      if (hint.load(std::memory_order_relaxed) != now) hint.store(now, std::memory_order_relaxed);
    }
  };

  // How many shards after its own a refill looks at for a parked batch.
  static constexpr std::size_t kLooks = 3;
  // A parked batch of one of the kLooks shards after `own` whose hint says it has one and whose lock
  // is free (threads whose frees outrun their allocations park what others then lack: cross_thread)
  // onto `out`. 0 when none was found. Takes and lets go of each shard's lock itself.
  std::size_t take_parked_nearby(block_chain& out, std::size_t own);
  // A flush whose own shard's parking is full: parks `batch` in the first of the kLooks shards after
  // `own` whose hint says nothing is parked there and whose lock is free, where own's refills look
  // for it (take_parked_nearby). False when there was none.
  bool park_nearby(const block_chain& batch, std::size_t own) noexcept;
  // Whether one of those shards' hints says a batch is parked there.
  bool parked_nearby(std::size_t own) const noexcept;
  // A refill from shard s's spans (its lock held), and its lendable hint after it.
  std::size_t take_from_arena(shard_state& s, block_chain& out, std::size_t n);

  // Before a refill of shard `own` fetches a new span: up to `n` blocks given back to another shard's
  // spans (span_arena::take_listed), trying each lendable shard's lock once (classes with lend_
  // only). In a ring of threads each block is freed into the next thread's cache and goes back to
  // the span of the shard that carved it, so one shard's spans fill with free blocks while its
  // neighbour, whose own spans are drained, fetched new ones: the memory held grew to about the sum
  // of every shard's own peak. batch_handoff at 8 threads: peak bytes held 6.9 -> 3.7 MB, peak RSS
  // 30.5 -> 27.6 MiB (mimalloc 25.8), medians of 8 alternating runs.
  std::size_t take_listed_elsewhere(block_chain& out, std::size_t n, std::size_t own) noexcept;

  // Empties every shard's parked batches onto the spans (before spans are counted or released).
  void unpark_all() noexcept;

  stats_counters* counters_;
  std::size_t count_;
  std::size_t parked_batch_;
  // Whether take_listed_elsewhere may serve: blocks aligned to whole cache lines share no line with
  // another block, so a block lent to another thread cannot be a neighbour of a live block of the
  // thread it came from. Smaller or less aligned blocks are not lent (Hoard's passive false
  // sharing: a thread that frees another thread's block and then allocates would be handed that
  // block's neighbours; ScalableHeap.AThreadThatStartsByFreeingAnotherThreadsBlocksDoesNotReuseTheirLines).
  bool lend_;
  std::vector<std::unique_ptr<shard_state>> shards_;
};

}  // namespace allocbench::detail
