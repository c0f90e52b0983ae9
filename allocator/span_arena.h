// The blocks of one size class, carved from spans: large, aligned chunks the arena asks upstream for.
//
// Each span is one upstream allocation of span_bytes() (a power of two), aligned to span_bytes(), so
// the span that holds a block is found by masking the block's address: no lookup table, no search.
// The span's header sits at its start, followed by its blocks:
//
//   span:  [span_header | pad to block alignment | colour][block][block]...[block][unused tail]
//
// The colour (0, 64, 128, ... up to the slack, one step more for each span adopted) spreads the
// blocks of successive spans over the cache sets (span_arena.cc).
//
// A header counts the span's free blocks (on its free list, or never handed out yet: its bump region),
// so a span whose every block is back is known at once. Spans with a free block are on the
// `available` list, the others on `full`; blocks are taken from the front of `available`, and a span
// that becomes entirely free moves to the back, so partly used spans are filled first and entirely
// free ones stay free. release_unused() gives the entirely free spans back to upstream: that is how a
// server shrinks after a peak. Blocks handed out (or in a thread cache) keep their span.
//
// Not synchronised: class_central_list puts it behind its class's lock. bytes_held() may be read
// without the lock (statistics).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>

#include "allocator/stats_counters.h"

namespace allocbench::detail {

// A singly linked chain of free blocks (each block's first word links to the next), as moved in one
// batch between a thread cache and a central list.
struct block_chain {
  void* head = nullptr;
  void* tail = nullptr;
  std::size_t count = 0;

  void push(void* block) noexcept {
    *static_cast<void**>(block) = head;
    if (head == nullptr) tail = block;
    head = block;
    ++count;
  }

  // Puts a whole chain in front of this one: one write, whatever its length.
  void prepend(const block_chain& front) noexcept {
    if (front.count == 0) return;
    *static_cast<void**>(front.tail) = head;
    if (head == nullptr) tail = front.tail;
    head = front.head;
    count += front.count;
  }
};

class span_arena {
 public:
  // Spans hold at least this many blocks (the span grows past min_span_bytes for large classes).
  static constexpr std::size_t kMinBlocksPerSpan = 8;

  // `block_size`: a multiple of 8; `block_alignment`: a power of two dividing block_size, at most
  // 4096; `min_span_bytes`: a power of two. Upstream must honour an alignment of span_bytes().
  // `shard`: a tag written into every span this arena carves, read back by shard_of(). `colour`
  // off: every span's first block at first_block_offset() (checked mode finds block starts by it).
  span_arena(std::size_t block_size, std::size_t block_alignment, std::size_t min_span_bytes,
             std::pmr::memory_resource& upstream, stats_counters& counters, std::uint32_t shard = 0,
             bool colour = true) noexcept;
  ~span_arena() { release_all(); }
  span_arena(const span_arena&) = delete;
  span_arena& operator=(const span_arena&) = delete;

  // Moves up to `n` (>= 1) blocks onto `out`. Takes a new span from upstream only when no span has a
  // free block; an upstream throw then propagates with nothing changed. Returns how many moved (>= 1).
  // Blocks never handed out before (a span's bump region) are moved only up to
  // kMaxCarvedBytesPerTake bytes (at least one block): a refill writes each block's link word, so in a
  // fresh span it touches every page those blocks lie on, and a page touched first costs a page
  // fault inside the caller's allocate. The rest stays uncarved for the next take; the batch is short.
  static constexpr std::size_t kMaxCarvedBytesPerTake = 4096;
  std::size_t take(block_chain& out, std::size_t n);

  // Whether take() can be served without a new span.
  bool has_free_block() const noexcept { return available_.head != nullptr; }
  // Whether take_listed() would find blocks.
  bool has_listed_block() const noexcept { return available_.head != nullptr && available_.head->free != nullptr; }
  // Up to `n` of the blocks given back to the first span with free blocks, and nothing else (no
  // never-used block, no new span): 0 when that span has none listed. For a refill of another
  // shard whose own spans are empty (class_central_list::take): blocks already paid for, rather
  // than a new span beside them.
  std::size_t take_listed(block_chain& out, std::size_t n) noexcept {
    if (!has_listed_block()) return 0;
    const std::size_t listed = available_.head->listed;
    return take(out, n < listed ? n : listed);  // n <= listed: the list alone serves it
  }
  // A new span from upstream, not yet the arena's: touches no arena state, so it needs no lock (the
  // caller's lock need not be held across an upstream call). An upstream throw propagates; a span
  // with the wrong alignment goes back and throws std::bad_alloc.
  void* fetch_span() const;
  // Makes a span from fetch_span() the arena's (its blocks available to take()).
  void adopt_span(void* span) noexcept;

  // Gives back one block this arena handed out. True when that made its span entirely free (the
  // only time detach_surplus_span() can find a surplus span). Inline: a flush gives each of its
  // blocks here, one call per block was a third of the flush's instructions.
  bool give(void* block) noexcept {
    span_header* s = span_of(block);
    *static_cast<void**>(block) = s->free;
    if (s->free == nullptr) s->free_tail = block;
    s->free = block;
    ++s->listed;
    if (s->free_count == 0) {
      unlink(full_, s);
      push_front(available_, s);
    }
    if (++s->free_count != capacity_) [[likely]] return false;
    became_free(s);
    return true;
  }

  // Entirely free spans beyond kKeptFreeSpans leave the arena one at a time (under the caller's lock),
  // to go back upstream through return_span once the lock is let go: a shard keeps one free span for
  // its next refill and gives the rest back as they empty (a server's memory shrinks after a peak
  // without a call to release_unused, and a thread's exit does not leave its spans behind).
  static constexpr std::size_t kKeptFreeSpans = 1;
  void* detach_surplus_span() noexcept {
    if (free_spans_ <= kKeptFreeSpans) return nullptr;
    return detach_free_tail();
  }
  // The one place a span goes back to upstream (detached first, or from release_unused/release_all).
  // Touches no arena state but atomics, so it needs no lock.
  void return_span(void* span) noexcept;

  // Gives every entirely free span back to upstream; returns the bytes given back.
  std::size_t release_unused() noexcept;
  // Gives every span back; every block handed out becomes invalid.
  void release_all() noexcept;

  // The tag of the arena that carved the span holding `block`, for any arena with this span size. The
  // tag never changes after the span is carved, so it may be read without the arena's lock by whoever
  // got the block from it.
  std::uint32_t shard_of(void* block) const noexcept { return span_of(block)->shard; }

  std::size_t span_bytes() const noexcept { return span_bytes_; }
  std::size_t blocks_per_span() const noexcept { return capacity_; }
  // Where the first block of a span starts, for blocks of this alignment (checked mode finds a block
  // start from an address with it: allocator/checked_span_map.h).
  static std::size_t first_block_offset(std::size_t block_alignment) noexcept;
  std::size_t span_count() const noexcept { return spans_; }
  std::size_t bytes_held() const noexcept { return bytes_held_.load(std::memory_order_relaxed); }

 private:
  struct span_header {
    span_header* prev;
    span_header* next;
    void* free;               // blocks given back, linked through their first word
    void* free_tail;          // the last block on `free` (valid while `free` is not null)
    std::byte* bump;          // the next block never handed out
    std::size_t free_count;   // blocks on `free` plus blocks from `bump` to the end
    std::uint32_t listed;     // blocks on `free`: take() moves them all in one splice
    std::uint32_t shard;      // the carving arena's tag (constant)
  };
  struct span_list {
    span_header* head = nullptr;
    span_header* tail = nullptr;
  };

  span_header* span_of(void* block) const noexcept {
    return reinterpret_cast<span_header*>(reinterpret_cast<std::uintptr_t>(block) & ~(span_bytes_ - 1));
  }
  static void push_front(span_list& l, span_header* s) noexcept;
  static void push_back(span_list& l, span_header* s) noexcept;
  static void unlink(span_list& l, span_header* s) noexcept;
  void give_back(span_header* s) noexcept;
  // give()'s cold part: the span's every block is back.
  void became_free(span_header* s) noexcept;
  void* detach_free_tail() noexcept;

  std::size_t stride_;
  std::size_t first_offset_;  // of the first block from the span start, before the span's colour
  std::size_t colour_step_;   // colours are multiples of this (block alignment, at least a line) ...
  std::size_t colour_limit_;  // ... up to this: the slack past the last block
  std::size_t next_colour_ = 0;  // what the next span adopted adds to first_offset_
  std::size_t span_bytes_;
  std::size_t capacity_;      // blocks per span
  std::pmr::memory_resource* upstream_;
  stats_counters* counters_;
  span_list available_;  // spans with at least one free block; entirely free ones towards the back
  span_list full_;       // spans with none
  std::size_t spans_ = 0;
  std::size_t free_spans_ = 0;  // spans whose every block is free (a suffix of available_)
  std::uint32_t shard_;
  std::atomic<std::size_t> bytes_held_{0};
};

}  // namespace allocbench::detail
