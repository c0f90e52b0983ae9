// resident_allowance: how many bytes of free spans a span source may keep with their pages.
//
// Why not a fixed allowance: a heap whose live bytes swing by more than the allowance (a workload
// that frees a third of its blocks and allocates them again, at tens of MiB) gave back the pages of
// most spans it emptied and faulted them in again when it took those spans back, inside a timed
// allocate: fragmentation_mix's allocate p99.9 was twice tcmalloc's, the faults on the refill path.
// tcmalloc and jemalloc keep such pages and return them on a timer (tcmalloc's background release,
// jemalloc's decay). Here free spans keep their pages while the bytes in use plus the bytes kept stay
// under the recent peak of the bytes in use, so resident memory never goes past that peak (plus the
// floor); the peak halves every kDecayMs once the heap shrinks, read from a coarse clock when a span
// is taken or given (no thread, no timer), and the spans past the new allowance give their pages back
// then. `floor` bytes are always allowed (the old fixed allowance); `up_to_peak = false` gives just
// that floor.
//
// Not thread-safe: the owner calls every member under the lock of its span lists. Calls no malloc.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>

namespace allocbench::detail {

// Milliseconds of CLOCK_MONOTONIC_COARSE: a vDSO read, no system call, ticks of a few ms.
inline std::uint64_t coarse_monotonic_ms() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
}

class resident_allowance {
 public:
  using clock_fn = std::uint64_t (*)() noexcept;
  static constexpr std::uint64_t kDecayMs = 1000;
  // Kept spans an owner gives back per hold of its lock when some are past the allowance (the rest
  // at the next hold): the lock is never held for a long trim.
  static constexpr std::size_t kTrimBatch = 16;

  constexpr resident_allowance(std::size_t floor_bytes, bool up_to_peak) noexcept
      : floor_(floor_bytes), up_to_peak_(up_to_peak) {}

  // Tests: a clock they move by hand.
  void set_clock(clock_fn clock) noexcept {
    clock_ = clock;
    last_decay_ms_ = clock_();
  }

  // A span of `bytes` goes into use (from the kept ones, the released ones or fresh).
  void taken(std::size_t bytes) noexcept {
    in_use_ += bytes;
    refresh();
  }
  // A span of `bytes` comes back from use.
  void given(std::size_t bytes) noexcept {
    in_use_ -= bytes;
    refresh();
  }

  // Whether one more span of `bytes` may keep its pages, `kept` bytes already keeping theirs.
  bool may_keep(std::size_t kept, std::size_t bytes) const noexcept { return kept + bytes <= allowed(); }
  // Bytes of kept spans past the allowance now (after the peak decayed or new spans raised in-use).
  std::size_t excess(std::size_t kept) const noexcept {
    const std::size_t limit = allowed();
    return kept > limit ? kept - limit : 0;
  }

  std::size_t in_use_bytes() const noexcept { return in_use_; }
  std::size_t peak_bytes() const noexcept { return peak_; }

 private:
  std::size_t allowed() const noexcept {
    const std::size_t headroom = up_to_peak_ && peak_ > in_use_ ? peak_ - in_use_ : 0;
    return headroom > floor_ ? headroom : floor_;
  }

  void refresh() noexcept {
    if (!up_to_peak_) return;
    if (in_use_ >= peak_) {
      peak_ = in_use_;
      last_decay_ms_ = clock_();  // at the peak: the decay starts when the heap shrinks
      return;
    }
    const std::uint64_t now = clock_();
    if (now - last_decay_ms_ < kDecayMs) return;
    const std::uint64_t halvings = (now - last_decay_ms_) / kDecayMs;
    last_decay_ms_ += halvings * kDecayMs;
    peak_ = halvings >= 64 ? 0 : peak_ >> halvings;
    if (peak_ < in_use_) peak_ = in_use_;
  }

  std::size_t floor_;
  bool up_to_peak_;
  clock_fn clock_ = &coarse_monotonic_ms;
  std::size_t in_use_ = 0;
  std::size_t peak_ = 0;
  std::uint64_t last_decay_ms_ = 0;
};

}  // namespace allocbench::detail
