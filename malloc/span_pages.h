// span_pages: the pages that the size classes' spans live in, for the malloc front end.
//
// Why not one mapping per span: a span that empties goes back upstream at once (span_arena keeps one
// spare per shard), so a program whose threads come and go mapped and unmapped spans thousands of
// times a second (two munmaps per aligned mmap, and a page fault per page of every fresh span), and
// every live span was a VMA of its own. Here spans are carved out of large regions reserved from the
// kernel, aligned to their size, and a span given back stays ours:
//   - given-back spans keep their pages while the bytes of spans in use plus those kept stay under
//     the recent peak of spans in use, and always up to kDirtyBytes (resident_allowance.h: the peak
//     halves each second once the heap shrinks); the next span of that size is reused at once, with
//     no fault and no zeroing;
//   - past that, its pages go back to the kernel (madvise MADV_DONTNEED: RSS falls at once, the
//     address range stays reserved) and the span waits on a stack of its size for reuse; kept spans
//     past a decayed peak go the same way, a batch at a time, when the next span is taken or given.
// Spans larger than kMaxPooledBytes are mappings of their own, as before.
//
// Nothing here calls malloc (safe before main, nested, after fork). One lock guards the lists; it is
// taken only when a shard needs a new span or gives one back, never on a fast path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "allocator/resident_allowance.h"

namespace allocbench::malloc_detail {

class span_pages {
 public:
  static constexpr unsigned kMinShift = 12;                        // 4 KiB spans
  static constexpr unsigned kMaxShift = 20;                        // 1 MiB spans
  static constexpr std::size_t kMaxPooledBytes = std::size_t(1) << kMaxShift;
  static constexpr std::size_t kRegionBytes = std::size_t(4) << 20;  // reserved per carve
  static constexpr std::size_t kDirtyBytes = std::size_t(2) << 20;   // kept resident when free, always
  static constexpr std::size_t kCleanSlots = 4096;                   // released spans kept per size

  constexpr span_pages() = default;
  span_pages(const span_pages&) = delete;
  span_pages& operator=(const span_pages&) = delete;

  // `bytes` (a power of two, at least a page) aligned to `bytes`, or nullptr when the kernel refuses.
  // Not zeroed: a reused span holds what its last user left.
  void* get(std::size_t bytes) noexcept;
  // A span from get(bytes): kept for reuse, its pages released past the allowance.
  void put(void* span, std::size_t bytes) noexcept;

  // Bytes of free spans whose pages are still resident; bytes reserved from the kernel in
  // regions (less any range let go).
  std::size_t dirty_bytes() const noexcept { return __atomic_load_n(&dirty_bytes_, __ATOMIC_RELAXED); }
  std::size_t reserved_bytes() const noexcept { return __atomic_load_n(&reserved_, __ATOMIC_RELAXED); }
  // Bytes of pooled spans in use, and their recent peak (what free spans may fill up to).
  std::size_t in_use_bytes() noexcept;
  std::size_t peak_bytes() noexcept;
  // Tests: the allowance's clock (milliseconds), moved by hand.
  void set_clock(detail::resident_allowance::clock_fn clock) noexcept;

  // fork(): the lock of the lists.
  void lock() noexcept { mu_.lock(); }
  void unlock() noexcept { mu_.unlock(); }

 private:
  static constexpr unsigned kSizes = kMaxShift - kMinShift + 1;
  struct free_span {
    free_span* next;
    std::size_t bytes;  // read by release(): a chain of excess spans holds several sizes
  };
  // Free spans of one size: resident ones linked through their first word, released ones (whose
  // memory must not be touched, or it faults back in) on a fixed stack of addresses.
  struct size_state {
    free_span* dirty = nullptr;
    void* clean[kCleanSlots] = {};
    std::size_t clean_count = 0;
    std::byte* bump = nullptr;  // the rest of this size's current region
    std::byte* bump_end = nullptr;
  };

  static bool pooled(std::size_t bytes) noexcept;
  static unsigned index_of(std::size_t bytes) noexcept;
  void* carve(size_state& s, std::size_t bytes) noexcept;  // under mu_
  // Under mu_: up to resident_allowance::kTrimBatch kept spans past the allowance, unlinked
  // (largest sizes first).
  free_span* take_excess() noexcept;
  // Not under mu_: gives the pages of a chain from take_excess() back, then lists the spans as
  // released; repeats while spans are past the allowance.
  void release(free_span* chain) noexcept;
  // A span whose pages went back: on the stack of its size, or unmapped when that stack is full.
  void keep_released(void* span, std::size_t bytes) noexcept;

  std::mutex mu_;
  size_state sizes_[kSizes];
  std::size_t dirty_bytes_ = 0;  // written under mu_
  std::size_t reserved_ = 0;     // written under mu_
  detail::resident_allowance allowance_{kDirtyBytes, true};  // under mu_
};

}  // namespace allocbench::malloc_detail
