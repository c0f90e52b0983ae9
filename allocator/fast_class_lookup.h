// What the fast path looks up by request size (bytes): where the size's class list sits in a thread
// cache, and whether a requested alignment fits that class's blocks (alignment_fits).
//
// Why a table of its own beside size_class_map: the map's table is indexed by (bytes + 7) / 8 and gives
// a class index, which the fast path would then shift to find the list (lea, shr, shl: three
// instructions). Here the table is indexed by the request size itself and holds the list's byte
// offset, so the whole lookup is one load with a scaled index, on each of allocate and deallocate.
// It costs two bytes per request size, so it covers sizes up to kDirectLimit (8 KiB of table, as
// large as the map's); larger small sizes take the slow path, which finds the class through the map.
//
// The class's alignment figures are in the list itself (thread_class_list), on the line the call
// touches anyway: see alignment_fits below.
#pragma once

#include <cstddef>
#include <cstdint>

#include "allocator/scalable_thread_cache.h"
#include "allocator/size_class_map.h"

namespace allocbench::detail {

// True when `alignment` is a power of two no larger than block_alignment, given reject_mask =
// -block_alignment (thread_class_list keeps both). One test, so that the fast path pays one branch
// for it: (a-1) & a is non-zero unless a is a power of two (or 0), and (a-1) & -A is non-zero when
// a > A; a = 0 gives (all ones) & -A != 0.
inline bool alignment_fits(std::size_t alignment, std::size_t reject_mask) noexcept {
  return ((alignment - 1) & (alignment | reject_mask)) == 0;
}

class fast_class_lookup {
 public:
  static constexpr std::size_t kDirectLimit = 4096;

  // enabled = false gives bound() == 0: every request takes the slow path (checked mode).
  fast_class_lookup(const size_class_map& map, bool enabled) noexcept;

  // Requests of fewer bytes than this are in the table.
  std::size_t bound() const noexcept { return bound_; }

  // The byte offset of the list of bytes' class in scalable_thread_cache::lists, for bytes < bound().
  std::size_t list_offset(std::size_t bytes) const noexcept {
    // The caller has compared bytes with bound() <= kDirectLimit + 1. Said here so that GCC, which
    // cannot see that bound_ is never larger, does not warn about constant sizes beyond the table
    // in code that never reaches this line; it adds no instruction.
    if (bytes > kDirectLimit) __builtin_unreachable();
    return list_offset_[bytes];
  }

 private:
  std::size_t bound_ = 0;  // first: it shares the heap's id line
  std::uint16_t list_offset_[kDirectLimit + 1] = {};
};

}  // namespace allocbench::detail
