#include "allocator/span_arena.h"

#include <algorithm>
#include <bit>
#include <new>

#include "allocator/asan_poison.h"

#include "allocator/request.h"

namespace allocbench::detail {

span_arena::span_arena(std::size_t block_size, std::size_t block_alignment, std::size_t min_span_bytes,
                       std::pmr::memory_resource& upstream, stats_counters& counters, std::uint32_t shard,
                       bool colour) noexcept
    : stride_(block_size),
      // Blocks start on a cache line of their own, past the header's: the central list writes the
      // header under its lock while threads use the span's blocks, and a block whose size is a
      // multiple of 64 then never straddles two lines (a straddling block shares lines with both
      // neighbours, which may belong to other threads).
      first_offset_(first_block_offset(block_alignment)),
      span_bytes_(std::bit_ceil(first_offset_ + kMinBlocksPerSpan * block_size)),
      upstream_(&upstream),
      counters_(&counters),
      shard_(shard) {
  if (span_bytes_ < min_span_bytes) span_bytes_ = min_span_bytes;
  capacity_ = (span_bytes_ - first_offset_) / stride_;
  // Cache colouring, as in Bonwick's slab allocator: the slack past a span's last block lets each new
  // span start its blocks one step (a line, or the block alignment) further on. Spans are aligned to
  // their size, so without it the n-th block of every span sits at the same offset modulo 64 KiB, and
  // for a class like 5120 at one of 4 offsets modulo 4096: the same field of every block then maps
  // to the same few cache sets (measured: sqlite's B-tree pages, 4368 bytes each).
  colour_step_ = std::max(block_alignment, kCacheLine);
  colour_limit_ = colour ? (span_bytes_ - first_offset_ - capacity_ * stride_) & ~(colour_step_ - 1) : 0;
}

std::size_t span_arena::first_block_offset(std::size_t block_alignment) noexcept {
  return round_up(sizeof(span_header), std::max(block_alignment, kCacheLine));
}

void span_arena::push_front(span_list& l, span_header* s) noexcept {
  s->prev = nullptr;
  s->next = l.head;
  if (l.head != nullptr) l.head->prev = s; else l.tail = s;
  l.head = s;
}

void span_arena::push_back(span_list& l, span_header* s) noexcept {
  s->next = nullptr;
  s->prev = l.tail;
  if (l.tail != nullptr) l.tail->next = s; else l.head = s;
  l.tail = s;
}

void span_arena::unlink(span_list& l, span_header* s) noexcept {
  if (s->prev != nullptr) s->prev->next = s->next; else l.head = s->next;
  if (s->next != nullptr) s->next->prev = s->prev; else l.tail = s->prev;
}

void* span_arena::fetch_span() const {
  void* p = upstream_->allocate(span_bytes_, span_bytes_);
  // Finding a block's span by masking needs the alignment asked for; an upstream that ignores it
  // cannot be used (better a clean bad_alloc than corrupt headers).
  if ((reinterpret_cast<std::uintptr_t>(p) & (span_bytes_ - 1)) != 0) {
    upstream_->deallocate(p, span_bytes_, span_bytes_);
    throw std::bad_alloc();
  }
  return p;
}

void span_arena::adopt_span(void* p) noexcept {
  auto* s = ::new (p) span_header{nullptr, nullptr, nullptr, nullptr,
                                  static_cast<std::byte*>(p) + first_offset_ + next_colour_, capacity_, 0, shard_};
  next_colour_ = next_colour_ < colour_limit_ ? next_colour_ + colour_step_ : 0;
  push_front(available_, s);
  ++spans_;
  ++free_spans_;
  bytes_held_.fetch_add(span_bytes_, std::memory_order_relaxed);
  counters_->on_upstream_acquire(span_bytes_);
}

std::size_t span_arena::take(block_chain& out, std::size_t n) {
  if (available_.head == nullptr) adopt_span(fetch_span());  // throws with nothing changed
  std::size_t moved = 0;
  std::size_t carved = 0;  // bytes of never-used blocks moved by this call
  // Whether the next never-used block would take this call past kMaxCarvedBytesPerTake (the first
  // one is always taken, whatever its size).
  const auto carved_enough = [&](std::size_t bytes) {
    return bytes != 0 && bytes + stride_ > kMaxCarvedBytesPerTake;
  };
  while (moved < n) {
    span_header* s = available_.head;
    if (s == nullptr) break;  // a short batch beats asking upstream for a span that may not be needed
    if (s->free == nullptr && carved_enough(carved)) break;
    if (s->free_count == capacity_) --free_spans_;
    if (s->free != nullptr) {
      // Blocks given back: the whole list in one splice when the batch wants it all (no walk over
      // cold blocks), else the first k, found by following k - 1 links.
      const std::size_t k = std::min<std::size_t>(s->listed, n - moved);
      void* last = s->free_tail;
      if (k < s->listed) {
        last = s->free;
        for (std::size_t i = 1; i < k; ++i) last = *static_cast<void**>(last);
      }
      void* rest = k < s->listed ? *static_cast<void**>(last) : nullptr;
      out.prepend(block_chain{s->free, last, k});
      s->free = rest;
      s->listed -= std::uint32_t(k);
      s->free_count -= k;
      moved += k;
    }
    // Never-used blocks: counted first, then pushed last to first, so that the batch hands them out
    // at rising addresses (the order a hardware prefetcher follows).
    std::size_t fresh = 0;
    while (moved + fresh < n && s->free_count > fresh && !carved_enough(carved + fresh * stride_)) ++fresh;
    for (std::size_t i = fresh; i-- > 0;) out.push(s->bump + i * stride_);
    s->bump += fresh * stride_;
    carved += fresh * stride_;
    s->free_count -= fresh;
    moved += fresh;
    if (s->free_count == 0) {
      unlink(available_, s);
      push_front(full_, s);
    } else if (moved < n) {
      break;  // this span still has blocks but the carving limit is reached
    }
  }
  return moved;
}

void span_arena::became_free(span_header* s) noexcept {
  ++free_spans_;
  // Entirely free: to the back, so that takes fill partly used spans first and this one can go
  // back upstream (detach_surplus_span, release_unused).
  if (s != available_.tail) {
    unlink(available_, s);
    push_back(available_, s);
  }
}

void* span_arena::detach_free_tail() noexcept {
  span_header* s = available_.tail;  // entirely free spans are the list's tail
  unlink(available_, s);
  --spans_;
  --free_spans_;
  return s;
}

void span_arena::return_span(void* span) noexcept {
  unpoison_block(span, span_bytes_);  // its free blocks were poisoned (asan_poison.h); upstream reuses it
  upstream_->deallocate(span, span_bytes_, span_bytes_);
  bytes_held_.fetch_sub(span_bytes_, std::memory_order_relaxed);
  counters_->on_upstream_release(span_bytes_);
}

void span_arena::give_back(span_header* s) noexcept {
  if (s->free_count == capacity_) --free_spans_;
  --spans_;
  return_span(s);
}

std::size_t span_arena::release_unused() noexcept {
  std::size_t freed = 0;
  for (span_header* s = available_.head; s != nullptr;) {
    span_header* next = s->next;
    if (s->free_count == capacity_) {
      unlink(available_, s);
      give_back(s);
      freed += span_bytes_;
    }
    s = next;
  }
  return freed;
}

void span_arena::release_all() noexcept {
  for (span_list* l : {&available_, &full_}) {
    while (span_header* s = l->head) {
      unlink(*l, s);
      give_back(s);
    }
  }
}

}  // namespace allocbench::detail
