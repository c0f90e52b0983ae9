// bootstrap_arena: the allocator for calls the engine cannot serve because they come from inside it.
//
// The engine's own bookkeeping (its construction from the layout, a thread's cache, the registry's
// lists, the JSON parse of ALLOCBENCH_LAYOUT, glibc's thread-exit records made while a cache is
// attached) allocates with operator new/malloc. In a process whose malloc is the engine, such a
// call re-enters the engine half-way through a slow path. The front end marks the thread while it
// is inside the engine, and a call made meanwhile comes here instead: power-of-two blocks from
// chunks mapped straight from the kernel, each block with a 16-byte header (right below the pointer
// handed out) naming its class and where the block starts, on one free list per class behind one
// lock. Chunks are tagged page_code::kMeta in the page map, so that
// free(p) sends such a block back here whenever it is freed, from any thread, inside the engine or
// not. Requests larger than kMaxBytes are the front end's large blocks (mapped, no engine either).
//
// These calls are few (a handful per thread and at start-up) and never on a fast path, so one lock
// is enough. Chunks are never given back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "malloc/page_map.h"

namespace allocbench::malloc_detail {

class bootstrap_arena {
 public:
  static constexpr std::size_t kMaxBytes = 64 * 1024 - 16;  // the largest request served here
  static constexpr std::size_t kChunkBytes = 1024 * 1024;

  constexpr explicit bootstrap_arena(page_map& pages) : pages_(&pages) {}
  bootstrap_arena(const bootstrap_arena&) = delete;
  bootstrap_arena& operator=(const bootstrap_arena&) = delete;

  // A block of at least `bytes` (<= kMaxBytes) aligned to `alignment` (a power of two, at most
  // kMaxAlignment; the engine's shards are cache-line aligned), or nullptr when the kernel refuses.
  static constexpr std::size_t kMaxAlignment = 4096;
  void* allocate(std::size_t bytes, std::size_t alignment = 16) noexcept;
  // A block from allocate().
  void deallocate(void* p) noexcept;
  // What allocate() made available for p.
  static std::size_t usable_size(const void* p) noexcept;

  std::uint64_t live_blocks() const noexcept { return __atomic_load_n(&live_, __ATOMIC_RELAXED); }
  std::size_t bytes_mapped() const noexcept { return __atomic_load_n(&mapped_, __ATOMIC_RELAXED); }

  void lock() noexcept { mu_.lock(); }
  void unlock() noexcept { mu_.unlock(); }

 private:
  static constexpr std::size_t kHeader = 16;
  static constexpr unsigned kMinShift = 5;   // 32-byte blocks, header included
  static constexpr unsigned kClasses = 13;   // ... up to 128 KiB (a large request, aligned)

  struct free_block {
    free_block* next;
  };

  page_map* pages_;
  std::mutex mu_;
  free_block* free_[kClasses] = {};  // guarded by mu_
  std::byte* bump_ = nullptr;        // the current chunk's unused part (guarded by mu_)
  std::byte* bump_end_ = nullptr;
  std::uint64_t live_ = 0;           // written under mu_
  std::size_t mapped_ = 0;           // written under mu_
};

}  // namespace allocbench::malloc_detail
