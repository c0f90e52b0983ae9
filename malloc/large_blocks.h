// large_blocks: requests past every size class (or aligned past every class's blocks), each a
// mapping of its own, page-rounded, with its length in its first page's page-map entry (page_map.h):
// no header in front of the block.
//
// Freed mappings of up to kMaxCachedBytes wait in a small cache for the next request of about their
// length, so that a program that allocates and frees such blocks in a loop does not pay mmap and
// munmap each time (and does not fault its pages in again). A cached mapping keeps its pages, so the
// cache's bound follows the blocks in use: cache_limit(), kMinCacheBytes plus an eighth of the live
// large bytes, at most kCacheBytes. A fixed 32 MiB let programs whose blocks do not come back at the
// same length (python3's, sqlite3's) keep 3-15 MiB of freed pages to the end, more than glibc's
// whole heap in the small ones. A free that finds the cache over its bound (the live bytes fell)
// lets the surplus go.
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
  // A cached mapping of n to 5n/4 bytes, taken out of the cache; {nullptr, 0} when none.
  cached take_cached(std::size_t n) noexcept;
  // Keeps a freed mapping; false when the cache has no room for it. Cached mappings past the bound
  // move to `surplus` (at most kCacheSlots; their count returned in `surplus_count`), for the caller
  // to unmap outside the lock.
  bool keep(void* p, std::size_t n, cached* surplus, std::size_t& surplus_count) noexcept;

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
