// Blocks too large (or too aligned) for any size class, linked in one of kShards lists so that
// release() and the destructor can give them back. Two sources:
// - upstream (a resource given a user's upstream, and every alignment above a page): each block is
//   its own upstream allocation (direct_blocks), its shard picked by address;
// - own pages (a resource built without an upstream, alignments up to a page): each block is a
//   page-granular mapping of its own (page_blocks), in the shard of the thread that allocated it.
//   A freed one is kept in its shard's large_page_cache (at most kCacheBytesPerShard bytes, counted
//   in bytes_held) for the next request of about its length there, so that a steady level of large
//   blocks stops costing an mmap, a munmap and a page fault per page each time; what passes the bound
//   is unmapped. release_cached() (release_unused) and release_all() unmap the kept ones too.
//
// Each shard has its own lock, held only to link, unlink or look in its cache; mmap, munmap and the
// upstream call run outside any lock. So large requests of different threads rarely meet on a lock,
// and there is no lock that every large request takes. The upstream must be thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>

#include "allocator/counted_mutex.h"
#include "allocator/direct_blocks.h"
#include "allocator/large_page_cache.h"
#include "allocator/page_blocks.h"
#include "allocator/stats_counters.h"

namespace allocbench::detail {

class large_block_shards {
 public:
  static constexpr std::size_t kShards = 16;
  // What each shard keeps of freed own-page blocks: a few of inference_kv's tensors (up to 128 KiB)
  // per thread; 16 MiB over all shards at most, against the tens of MiB a 16-thread heap holds.
  static constexpr std::size_t kCacheBytesPerShard = std::size_t(1) << 20;

  // own_pages: blocks of alignment <= page_blocks::kMaxAlignment on mappings of their own; every
  // other block from `upstream`.
  large_block_shards(std::pmr::memory_resource& upstream, stats_counters& counters, bool own_pages = false) noexcept
      : upstream_(&upstream), counters_(&counters), own_pages_(own_pages) {}
  ~large_block_shards() { release_all(); }
  large_block_shards(const large_block_shards&) = delete;
  large_block_shards& operator=(const large_block_shards&) = delete;

  // A block of at least `bytes` aligned to `alignment`; bad_alloc (nothing changed) where bytes plus
  // the header overflows or the kernel refuses, and whatever upstream throws.
  void* allocate(std::size_t bytes, std::size_t alignment);
  // `p` must come from allocate() of this object with this alignment.
  void deallocate(void* p, std::size_t alignment) noexcept;
  // Unmaps every kept (freed) own-page block; returns the bytes unmapped.
  std::size_t release_cached() noexcept;
  // Gives every block back, kept ones included; returns the bytes freed.
  std::size_t release_all() noexcept;

  bool own_pages() const noexcept { return own_pages_; }
  std::size_t count() const noexcept;       // blocks handed out and not freed
  std::size_t bytes_held() const noexcept;  // their upstream or mapped bytes, plus the kept ones
  std::size_t bytes_cached() const noexcept;
  // Own-page mappings made so far (each an mmap inside allocate): what the kept mappings save.
  std::size_t mappings_made() const noexcept { return mappings_made_.load(std::memory_order_relaxed); }

 private:
  struct alignas(kCacheLine) shard {
    mutable counted_mutex mu;
    direct_blocks blocks;  // guarded by mu
    page_blocks pages;     // guarded by mu
    large_page_cache cache{kCacheBytesPerShard};  // guarded by mu
  };

  bool from_pages(std::size_t alignment) const noexcept {
    return own_pages_ && alignment <= page_blocks::kMaxAlignment;
  }
  void* allocate_pages(std::size_t bytes, std::size_t alignment);
  void deallocate_pages(void* p, std::size_t alignment) noexcept;
  // Unmaps what a cache handed back, outside any lock; returns the bytes unmapped.
  std::size_t unmap(const large_page_cache::evicted_list& evicted) noexcept;

  shard& shard_of(const void* p) noexcept {
    // Upstream blocks are at least 16-byte aligned; a multiplicative hash spreads the rest.
    const auto bits = std::uint64_t(reinterpret_cast<std::uintptr_t>(p) >> 4);
    return shards_[(bits * 0x9E3779B97F4A7C15ull) >> 60];
  }

  std::pmr::memory_resource* upstream_;
  stats_counters* counters_;
  const bool own_pages_;
  std::atomic<std::size_t> mappings_made_{0};
  shard shards_[kShards];
};

}  // namespace allocbench::detail
