// os_span_source: spans for the scalable engine straight from the kernel, for a resource that was
// given no upstream of its own.
//
// Why: a span is asked for at its own alignment (64 KiB aligned to 64 KiB and up, span_arena.h), and
// an aligned operator new over glibc splits a larger chunk for each one, leaving gaps around every
// span to other allocations; those gaps cost resident memory the engine never holds. Here spans are
// carved from large reserved regions (mapped without touching them, so a region costs no resident
// memory until its spans are used), each span at the next multiple of its size, so nothing sits
// between spans but address space.
//
// A span given back keeps its address range for the next span of that size. Such spans keep their
// pages while the bytes of spans out plus those kept stay under the recent peak of the bytes out, and
// always up to keep_resident_bytes (resident_allowance.h: the peak halves each second once the heap
// shrinks), so that a heap whose live bytes swing below a level and back does not pay a page fault per
// touched page of every span it takes again (inside a timed allocate: a refill writes the link word
// of every block it moves). The pages of any span beyond that go back to the kernel at once (madvise
// MADV_DONTNEED), and kept spans past a decayed peak follow, a batch at a time, when the next span is
// taken or given: resident memory stays within the recent peak of what the engine holds, and such a
// span reads as zeros when reused. release_resident() gives the kept pages back too. Requests larger
// than a region's eighth get a mapping of their own, unmapped when given back. The destructor unmaps
// everything.
//
// One mutex guards the regions and the lists of free spans: it is taken only when a central list
// fetches or returns a whole span (the refill path, never the thread caches' fast path), for a few
// pointer moves; mmap and madvise run outside it.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <mutex>
#include <vector>

#include "allocator/resident_allowance.h"

namespace allocbench::detail {

class os_span_source final : public std::pmr::memory_resource {
 public:
  // Address space reserved per region; spans up to kRegionBytes / 8 are carved from regions.
  static constexpr std::size_t kRegionBytes = std::size_t(32) << 20;
  static constexpr std::size_t kMaxCarvedBytes = kRegionBytes / 8;

  // What spans given back may always keep resident by default: a few spans of each large class.
  static constexpr std::size_t kDefaultKeepResidentBytes = std::size_t(2) << 20;

  // up_to_peak = false: given-back spans keep pages up to keep_resident_bytes only.
  explicit os_span_source(std::size_t keep_resident_bytes = kDefaultKeepResidentBytes,
                          bool up_to_peak = true) noexcept
      : allowance_(keep_resident_bytes, up_to_peak) {}
  ~os_span_source() override;
  os_span_source(const os_span_source&) = delete;
  os_span_source& operator=(const os_span_source&) = delete;

  // Bytes of spans handed out and not given back (what may be resident).
  std::size_t bytes_out() const;
  // Address space mapped now (regions and own mappings).
  std::size_t bytes_mapped() const;
  // Bytes of given-back spans whose pages are kept (at most the larger of keep_resident_bytes and
  // the recent peak of bytes out less the bytes out now).
  std::size_t bytes_kept_resident() const;
  // Tests: the allowance's clock (milliseconds), moved by hand.
  void set_clock(resident_allowance::clock_fn clock);
  // Gives the pages of every kept span back to the kernel; returns how many bytes.
  std::size_t release_resident() noexcept;

 private:
  // A block of bit_ceil(max(bytes, alignment, 4096)) bytes aligned to that size. A non-power-of-two
  // alignment throws std::invalid_argument; a size no mapping can have, or a refusal of the kernel,
  // std::bad_alloc; either leaves nothing changed.
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  struct region {
    char* base;
    std::size_t bytes;
  };
  // Index of a carved size in free_: log2(bytes) - 12.
  static constexpr std::size_t kCarvedSizes = 11;  // 4 KiB .. 4 MiB (kMaxCarvedBytes)

  // Under mutex_: a given-back span of `bytes` (one with its pages first), or carved from the current region; nullptr when the
  // region has no room (the caller maps a new one).
  void* take_locked(std::size_t bytes, std::size_t index);
  // Not under mutex_: madvises the span's pages away, then lists it among the spans without pages.
  void give_pages_back(void* p, std::size_t size) noexcept;
  // Kept spans past the allowance, at most resident_allowance::kTrimBatch, largest first.
  struct excess_spans {
    void* span[resident_allowance::kTrimBatch];
    std::size_t bytes[resident_allowance::kTrimBatch];
    std::size_t count = 0;
  };
  // Under mutex_: unlinks them from kept_.
  excess_spans take_excess_locked() noexcept;
  // Under mutex_: counts a span of `size` handed out; the kept spans it puts past the allowance.
  excess_spans hand_out_locked(std::size_t size) noexcept;
  // Not under mutex_: gives their pages back, then takes the next batch while any is left.
  void give_excess_back(excess_spans excess) noexcept;

  mutable std::mutex mutex_;
  std::vector<region> regions_;  // every region; the last one is carved from
  char* bump_ = nullptr;         // next unused byte of the last region
  char* end_ = nullptr;
  // Spans given back, by size: those whose pages are kept, and those whose pages went back.
  std::vector<void*> kept_[kCarvedSizes];
  std::vector<void*> free_[kCarvedSizes];
  resident_allowance allowance_;  // of carved spans
  std::size_t kept_bytes_ = 0;
  std::size_t own_mapped_ = 0;              // bytes of the own mappings of large requests
  std::size_t bytes_out_ = 0;
};
static_assert(os_span_source::kMaxCarvedBytes == std::size_t(4096) << (11 - 1));

}  // namespace allocbench::detail
