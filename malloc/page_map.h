// page_map: which of the front end's structures holds each 4 KiB page, so that free(p) and
// malloc_usable_size(p) learn p's block size from the page alone: no header in front of any block.
//
// A two-level radix tree over the 47-bit user address space: the root (2^17 pointers, 1 MiB of
// zero-initialised static storage, touched only where used) splits it into 1 GiB regions, each a leaf
// of 2^18 page entries (2 MiB, mapped from the kernel on first use: only the pages of it that hold
// set entries become resident). A lookup is two dependent loads; leaves are never freed.
//
// What an entry says (page_code): the block size of the engine's span that holds the page (a size
// class: every page of a span is set), a large block (its first page only: the mapping's length),
// or a chunk of the bootstrap arena. Stored plus one, so that an unset entry (zero) reads as kNone,
// which is larger than any size class: free's fast path compares the code with the engine's bound
// and so needs no separate test for "not ours".
//
// Thread safety: set/clear may run concurrently with lookups of other pages; a leaf is published
// with a release store and read with acquire. A lookup of a page being set or cleared at the same
// moment is a use of a block that does not exist yet or any more (a bug of the caller).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace allocbench::malloc_detail {

namespace page_code {
inline constexpr std::uint64_t kNone = ~std::uint64_t(0);
inline constexpr std::uint64_t kLarge = std::uint64_t(1) << 63;      // | the mapping's bytes
inline constexpr std::uint64_t kMeta = std::uint64_t(1) << 62;       // a bootstrap-arena chunk
inline constexpr std::uint64_t kOverAligned = std::uint64_t(1) << 61;  // large, aligned past a page
inline constexpr std::uint64_t kLengthMask = (std::uint64_t(1) << 48) - 1;
}  // namespace page_code

class page_map {
 public:
  static constexpr unsigned kPageShift = 12;
  static constexpr unsigned kLeafBits = 18;  // 1 GiB per leaf
  static constexpr unsigned kRootBits = 47 - kPageShift - kLeafBits;
  static constexpr std::size_t kLeafEntries = std::size_t(1) << kLeafBits;
  static constexpr std::size_t kRootEntries = std::size_t(1) << kRootBits;

  constexpr page_map() = default;
  page_map(const page_map&) = delete;
  page_map& operator=(const page_map&) = delete;

  // The code of p's page, or kNone. Any pointer may be asked about (addresses past 47 bits wrap).
  std::uint64_t lookup(const void* p) const noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const std::uint64_t* leaf =
        __atomic_load_n(&root_[(a >> (kPageShift + kLeafBits)) & (kRootEntries - 1)], __ATOMIC_ACQUIRE);
    if (leaf == nullptr) return page_code::kNone;
    return __atomic_load_n(&leaf[(a >> kPageShift) & (kLeafEntries - 1)], __ATOMIC_RELAXED) - 1;
  }

  // Sets every page of [start, start + bytes) (page-aligned) to `code`; false, with nothing set,
  // when a leaf could not be mapped.
  bool set(const void* start, std::size_t bytes, std::uint64_t code) noexcept;
  // Sets only the page at `start` (a large block: the rest of it is never looked up).
  bool set_first(const void* start, std::uint64_t code) noexcept { return set(start, 1, code); }
  // Unsets every page of [start, start + bytes) (all of which were set).
  void clear(const void* start, std::size_t bytes) noexcept;

  // Leaves mapped so far (tests, statistics).
  std::size_t leaf_count() const noexcept;

  // fork(): the lock that guards leaf creation.
  void lock() noexcept { mu_.lock(); }
  void unlock() noexcept { mu_.unlock(); }

 private:
  // p's leaf, mapped now when missing; nullptr when the kernel refuses.
  std::uint64_t* leaf_for(std::uintptr_t a) noexcept;
  void store(std::uintptr_t first_page, std::uintptr_t end_page, std::uint64_t value) noexcept;

  std::uint64_t* root_[kRootEntries] = {};
  std::mutex mu_;  // guards leaf creation only
};

}  // namespace allocbench::malloc_detail
