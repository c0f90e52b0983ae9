// allocbench::fixed_slab_resource: a pool of equal-sized blocks, optionally with per-thread caches.
//
// It serves any request whose size is at most block_size() and whose alignment is at most
// block_alignment(), always with one whole block (allocate(0) included). Any other request throws
// std::bad_alloc and changes nothing: a slab is meant to sit behind a router that sends it only what
// fits (see fits()). A non-power-of-two alignment throws std::invalid_argument.
//
// Memory comes from upstream in chunks of chunk_bytes, aligned to block_alignment(); blocks are handed
// out from the newest chunk by a bump pointer and, once freed, from an intrusive free list. Nothing goes
// back upstream before release() or the destructor.
//
// Threads: a mutex guards the central free list (and every upstream call, so the upstream need not be
// thread-safe). With thread_cache_entries > 0 each thread keeps up to that many free blocks of this
// resource and takes the lock only once per thread_cache_entries/2 calls (see
// allocator/block_thread_caches.h); a thread's cached blocks return to the central list when it exits.
// The stats' contention_events counts lock acquisitions that found the lock taken.
//
// Usable size: the configured block_size (the stride between blocks may be larger: at least
// sizeof(void*) and a multiple of 8). Stats report block_size() as each block's usable bytes.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <string_view>

#include "allocator/asan_poison.h"
#include "allocator/block_thread_caches.h"
#include "allocator/central_free_list.h"
#include "allocator/invalid_free.h"
#include "allocator/checked_registry.h"
#include "pmr/instrumented_resource.h"
#include "pmr/resource_stats.h"

namespace allocbench {

struct fixed_slab_options {
  std::size_t block_size = 64;           // usable bytes per block: 1 .. chunk_bytes
  std::size_t chunk_bytes = 64 * 1024;   // bytes asked from upstream per refill: stride .. 1 GiB
  std::size_t thread_cache_entries = 0;  // blocks each thread may cache; 0 = no thread cache
  // Checked mode (invalid_free.h): the canary takes the room between the requested size and
  // block_size (up to 8 bytes; none for a request of block_size bytes).
  bool checked = checked_by_default();
};

class fixed_slab_resource final : public instrumented_resource {
 public:
  // The largest thread_cache_entries accepted: far beyond any useful cache, it keeps a typo (or a
  // negative number cast to size_t) from parking memory in every thread.
  static constexpr std::size_t kMaxThreadCacheEntries = std::size_t(1) << 20;

  // Throws std::invalid_argument naming the option when one is out of range.
  explicit fixed_slab_resource(const fixed_slab_options& options = {},
                               std::pmr::memory_resource* upstream = std::pmr::get_default_resource());
  ~fixed_slab_resource() override;

  std::size_t block_size() const noexcept { return block_size_; }
  // Largest power of two dividing the block stride, capped at 4096: every block is aligned to it.
  std::size_t block_alignment() const noexcept { return block_alignment_; }
  bool fits(std::size_t bytes, std::size_t alignment) const noexcept {
    return bytes <= block_size_ && alignment <= block_alignment_;
  }
  std::size_t thread_cache_entries() const noexcept { return caches_ ? caches_->capacity() : 0; }
  // Blocks each upstream chunk holds.
  std::size_t blocks_per_chunk() const noexcept { return central_.blocks_per_chunk(); }

  // Checked mode: gives every quarantined block back now, checking its fill. Nothing when unchecked.
  void flush_quarantine() override;

  // One entry in classes (name = the block size).
  resource_stats stats() const override;
  void release() override;
  std::string_view kind() const noexcept override { return "fixed_slab"; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;

  // The one way in and out of the cache and central list: under asan a block there is poisoned
  // except its link word (allocator/asan_poison.h); nothing is done in other builds.
  void* take_block() {
    void* p = caches_ ? caches_->allocate() : central_.pop();
    detail::unpoison_block(p, block_size_);
    return p;
  }
  void give_block(void* p) noexcept {
    detail::poison_free_block(p, block_size_);
    caches_ ? caches_->deallocate(p) : central_.push(p);
  }
  [[gnu::noinline]] void* allocate_checked(std::size_t bytes, std::size_t alignment);
  [[gnu::noinline]] void deallocate_checked(void* p, std::size_t bytes, std::size_t alignment);
  [[gnu::noinline]] void reject_unfit_free(void* p, std::size_t bytes, std::size_t alignment);

  std::size_t block_size_;
  std::size_t block_alignment_;
  bool checked_;
  detail::central_free_list central_;
  std::unique_ptr<detail::block_thread_caches> caches_;      // null without thread caches
  std::unique_ptr<detail::checked_registry> registry_;      // null unless checked
};

}  // namespace allocbench
