// large_blocks: requests past every size class (or aligned past every class's blocks), each a
// mapping of its own, page-rounded, with its length in its first page's page-map entry (page_map.h):
// no header in front of the block.
//
// Freed mappings of up to kMaxCachedBytes wait in a small cache, pages and all, for the next large
// request, so that a program that allocates and frees such blocks does not pay mmap, munmap and a
// fault per page each time. A request takes the cached mapping nearest its length: one within a
// quarter over it as it is, a longer one split (its front serves the request, its tail stays
// cached), a shorter one grown by mremap (only the added pages are new). python3's lists and dicts
// grow by realloc and are freed at lengths that never come back: a cache that served only lengths
// within a quarter (as before) faulted 4,600 more pages than glibc on python_json (whose heap reuses
// freed chunks of any length).
//
// A cached mapping keeps its pages, so the cache's bound follows the blocks in use: cache_limit(),
// kMinCacheBytes plus an eighth of the live large bytes, at most kCacheBytes. A fixed 32 MiB let
// programs whose blocks do not come back (python3's, sqlite3's) keep 3-15 MiB of freed pages to the
// end, more than glibc's whole heap in the small ones. A bound up to the recent peak of live large
// bytes (as the span sources keep, resident_allowance.h) was tried and not kept: it saved python_json
// 260 more faults, but sort_parallel's freed 4 MiB buffer then stayed resident while its spans grew,
// and its peak RSS rose by 4 %: the large peak and the spans' peak are not at the same time. A call
// that finds the cache over its bound (the live bytes fell) lets the surplus go.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "malloc/page_map.h"

namespace allocbench::malloc_detail {

class large_blocks {
 public:
  static constexpr std::size_t kCacheSlots = 32;
  static constexpr std::size_t kCacheBytes = 32 * 1024 * 1024;  // the most the bound grows to
  static constexpr std::size_t kMinCacheBytes = 1024 * 1024;     // the bound with nothing live
  static constexpr std::size_t kMaxCachedBytes = 4 * 1024 * 1024;

  // What the cache may hold while `live` large bytes are in use.
  static constexpr std::size_t cache_limit(std::size_t live) noexcept {
    const std::size_t limit = kMinCacheBytes + live / 8;
    return limit < kCacheBytes ? limit : kCacheBytes;
  }

  constexpr explicit large_blocks(page_map& pages) : pages_(&pages) {}
  large_blocks(const large_blocks&) = delete;
  large_blocks& operator=(const large_blocks&) = delete;

  // A block of at least `bytes` aligned to `alignment` (a power of two), zeroed when `zero`; nullptr
  // when it cannot be had (errno is the caller's to set).
  void* allocate(std::size_t bytes, std::size_t alignment, bool zero) noexcept;
  // `code`: the block's page-map entry.
  void deallocate(void* p, std::uint64_t code) noexcept;
  // The block at a new length, in place or moved by mremap (its pages move, nothing is copied);
  // nullptr, with the block unchanged, when it cannot (mremap refused, or an over-aligned block:
  // mremap may not keep the alignment).
  void* resize(void* p, std::uint64_t code, std::size_t bytes) noexcept;

  std::uint64_t allocations() const noexcept { return __atomic_load_n(&allocations_, __ATOMIC_RELAXED); }
  std::uint64_t deallocations() const noexcept { return __atomic_load_n(&deallocations_, __ATOMIC_RELAXED); }
  std::uint64_t live_bytes() const noexcept { return __atomic_load_n(&live_bytes_, __ATOMIC_RELAXED); }
  std::uint64_t cached_bytes() const noexcept { return __atomic_load_n(&cached_bytes_, __ATOMIC_RELAXED); }

  void lock() noexcept { mu_.lock(); }
  void unlock() noexcept { mu_.unlock(); }

 private:
  struct cached {
    void* p;
    std::size_t bytes;
  };
  // Under mu_: what the cache may hold now (cache_limit of the live bytes).
  std::size_t limit_locked() const noexcept;
  // Under mu_: the cached mapping nearest n bytes in length, taken out of the cache (or its front n
  // bytes, the tail left cached, when it is more than a quarter longer); {nullptr, 0} when none.
  cached take_cached_locked(std::size_t n) noexcept;
  // Under mu_: cached mappings past the bound, less `room` bytes, move to `surplus` (at most
  // kCacheSlots, counted in `surplus_count`) for the caller to unmap outside the lock; also one
  // when all slots are taken and `room` is wanted.
  void trim_locked(std::size_t room, cached* surplus, std::size_t& surplus_count) noexcept;

  page_map* pages_;
  std::mutex mu_;  // guards the cache
  cached cache_[kCacheSlots] = {};
  std::size_t cache_count_ = 0;
  std::uint64_t allocations_ = 0;  // atomics through __atomic builtins
  std::uint64_t deallocations_ = 0;
  std::uint64_t live_bytes_ = 0;
  std::uint64_t cached_bytes_ = 0;  // written under mu_
};

}  // namespace allocbench::malloc_detail
