// Per-thread caches of blocks in front of a central_free_list: the fixed slab's fast path.
//
// Each thread that uses the resource keeps up to `capacity` free blocks of it. An empty cache takes a
// batch of capacity/2 blocks from the central list under its lock; a full cache gives capacity/2 back.
// So a thread pays for the lock at most once per capacity/2 calls, and a thread that alternates
// allocate and free never takes it. Blocks are fungible between threads: a block freed by a thread
// other than the one that allocated it goes into the freeing thread's cache.
//
// The caches are attached through thread_cache_owner: a thread that exits gives its blocks back to the
// central list; the destruction of the owner takes every cache away first.
//
// Invariants: every block of the central pool is in exactly one place: handed out to a user, in one
// thread's cache, or in the central list. Only the owning thread touches its cache, except when that
// thread is exiting (its own exit flush) or does not use the resource (release(), destruction).
#pragma once

#include <cstddef>

#include "allocator/central_free_list.h"
#include "allocator/free_list.h"
#include "allocator/stats_counters.h"  // kCacheLine
#include "allocator/thread_cache_registry.h"

namespace allocbench::detail {

class block_thread_caches final : private thread_cache_owner {
 public:
  // `capacity` >= 1.
  block_thread_caches(central_free_list& central, std::size_t capacity);
  ~block_thread_caches();

  // A block from this thread's cache (refilled from the central list when empty). A thread that can
  // have no cache (the registry is full, or the thread is exiting) goes to the central list directly.
  void* allocate() {
    block_cache* cache = local();
    if (cache == nullptr) [[unlikely]] return central_.pop();
    if (void* p = cache->blocks.pop()) [[likely]] return p;
    return refill_and_pop(*cache);
  }

  void deallocate(void* block) noexcept {
    block_cache* cache = local();
    if (cache == nullptr) [[unlikely]] return central_.push(block);
    if (cache->blocks.size() >= capacity_) [[unlikely]] flush(*cache);
    cache->blocks.push(block);
  }

  // For release(): empties every thread's cache without giving the blocks to the central list (its
  // chunks are about to go back upstream). No thread may use the resource meanwhile.
  void drop_all() noexcept;

  // Threads holding a cache right now.
  std::size_t thread_count() const { return cache_count(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  // On a cache line of its own: its thread writes it on every call, and a 16-byte cache from `new`
  // could otherwise share a line with another thread's hot data (false sharing, not lock contention).
  struct alignas(kCacheLine) block_cache {
    free_list blocks;
  };

  // This thread's cache, or nullptr when it can have none. A cache that cannot be created (out of
  // memory) is no error: the thread just uses the central list.
  block_cache* local() noexcept {
    try {
      return static_cast<block_cache*>(local_cache());
    } catch (...) {
      return nullptr;
    }
  }

  [[gnu::noinline]] void* refill_and_pop(block_cache& cache);
  [[gnu::noinline]] void flush(block_cache& cache) noexcept;

  void* create_cache() override;
  void destroy_cache(void* cache, bool thread_exit) noexcept override;

  central_free_list& central_;
  std::size_t capacity_;
  std::size_t batch_;  // blocks moved per refill or flush
};

}  // namespace allocbench::detail
