// The free blocks of a best-fit resource, indexed by size, for an exact best-fit lookup with no
// allocation of its own (a free must never allocate: deallocate is noexcept).
//
// Blocks are kept in bins, each an intrusive doubly-linked list threaded through the free blocks'
// payloads (free_links, boundary_tags.h):
// - below 4 KiB one bin per size (sizes are multiples of 16), so a bin holds blocks of one size and
//   insertion is O(1);
// - from 4 KiB up, 16 bins per power of two (each spans 1/16 of its octave); a bin's list is sorted by
//   size, ascending, so its head is its smallest block.
// A bitmap of non-empty bins finds the next non-empty bin in a few word scans.
//
// best_fit(n) returns the smallest free block of at least n bytes: the first fitting block in n's own
// bin (sorted), else the head of the next non-empty bin, whose blocks are all larger. Not thread-safe:
// the owning resource serialises.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "allocator/boundary_tags.h"

namespace allocbench::detail {

class free_block_index {
 public:
  static constexpr std::size_t kExactBins = 4096 / kBlockGranule;  // sizes below 4 KiB
  static constexpr std::size_t kSubBins = 16;                      // per power of two above
  static constexpr std::size_t kOctaves = 64 - 12;                 // 2^12 .. 2^63
  static constexpr std::size_t kBins = kExactBins + kOctaves * kSubBins;

  free_block_index() noexcept { clear(); }
  free_block_index(const free_block_index&) = delete;
  free_block_index& operator=(const free_block_index&) = delete;

  // `b` must be marked free and not be in the index already.
  void insert(block_tag* b) noexcept;
  void erase(block_tag* b) noexcept;

  // The smallest free block of at least `bytes` bytes, or nullptr. It stays in the index.
  block_tag* best_fit(std::size_t bytes) const noexcept;

  std::size_t count() const noexcept { return count_; }
  std::size_t free_bytes() const noexcept { return bytes_; }
  // The size of the largest free block, or 0.
  std::size_t largest() const noexcept;

  // Forgets every block (their memory is going away).
  void clear() noexcept;

  static std::size_t bin_of(std::size_t size) noexcept;

 private:
  static constexpr std::size_t kWords = (kBins + 63) / 64;

  std::size_t next_non_empty(std::size_t from) const noexcept;  // kBins when none
  void mark(std::size_t bin) noexcept { bitmap_[bin / 64] |= std::uint64_t(1) << (bin % 64); }
  void unmark(std::size_t bin) noexcept { bitmap_[bin / 64] &= ~(std::uint64_t(1) << (bin % 64)); }

  std::array<block_tag*, kBins> heads_;
  std::array<std::uint64_t, kWords> bitmap_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace allocbench::detail
