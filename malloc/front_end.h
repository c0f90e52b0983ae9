// The malloc front end: malloc, free and the rest of glibc's allocation API served by the engine of
// the "scalable" preset (allocator/scalable_heap.h), one heap for the whole process.
//
// These sm_* functions are the API; malloc/malloc_symbols.cc gives them their glibc names (and the
// operator new/delete forms) for //malloc:scalable_malloc and libscalable_malloc.so. Tests may call
// them directly in a process whose malloc is another (a sanitizer's): the heap is the same.
//
// Where a block comes from, and how free(p) finds out without a size (page_map.h):
//   - requests up to the layout's max_small whose alignment a size class honours: the engine's size
//     classes. Each class's spans come from a span source that records the class's block size for
//     every page of the span (scalable_heap_config::class_upstreams), so free(p) reads p's page entry
//     and hands p to the engine's fast path with that size: two loads and a compare in front of the
//     engine's own deallocate path;
//   - anything larger (or aligned past every class): a mapping of its own, page-rounded, whose first
//     page records its length (large_blocks.h, with a bounded cache of freed mappings). No header in
//     front of any block;
//   - calls made while this thread is inside the engine (its bookkeeping allocates): the bootstrap
//     arena (bootstrap_arena.h), so that the engine never re-enters itself.
//
// Conventions (glibc's): malloc(0) and the like return a unique pointer; calloc whose product
// overflows, and any size that cannot be served, return nullptr with errno ENOMEM; posix_memalign
// with an alignment that is not a power of two multiple of sizeof(void*) returns EINVAL (errno
// untouched); memalign/aligned_alloc round such an alignment up to a power of two (EINVAL past
// SIZE_MAX / 2 + 1); realloc(nullptr, n) is malloc(n); realloc(p, 0) frees p and returns nullptr;
// free(nullptr) does nothing; a pointer that none of the three sources knows aborts with a message
// on stderr, as glibc's free does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "allocator/scalable_heap.h"
#include "malloc/page_map.h"

namespace allocbench::malloc_detail {

inline constexpr std::size_t kMallocAlignment = 16;  // alignof(max_align_t): glibc's
inline constexpr std::uint64_t kSmallCodes = std::uint64_t(1) << 32;  // below: a class's block size

// Set once the heap is built (first call); never unset: the heap is never destroyed, so threads and
// exit handlers running after main may still allocate and free.
extern detail::scalable_heap* g_heap;
extern page_map g_pages;

inline detail::scalable_heap* heap() noexcept { return __atomic_load_n(&g_heap, __ATOMIC_ACQUIRE); }

[[gnu::noinline]] void* malloc_slow(std::size_t bytes, std::size_t alignment) noexcept;
[[gnu::noinline]] void free_slow(void* p, std::uint64_t code) noexcept;

}  // namespace allocbench::malloc_detail

namespace allocbench {

inline void* sm_malloc(std::size_t bytes) noexcept {
  if (detail::scalable_heap* h = malloc_detail::heap()) [[likely]] {
    if (void* p = h->try_allocate(bytes, malloc_detail::kMallocAlignment)) [[likely]] return p;
  }
  return malloc_detail::malloc_slow(bytes, malloc_detail::kMallocAlignment);
}

inline void sm_free(void* p) noexcept {
  const std::uint64_t code = malloc_detail::g_pages.lookup(p);
  // A class's block size: its span exists, so the heap does. The engine takes the block into this
  // thread's cache unless its list is full or the thread has none (then the slow path).
  if (code < malloc_detail::kSmallCodes) [[likely]] {
    if (malloc_detail::g_heap->try_deallocate(p, std::size_t(code), 1)) [[likely]] return;
  }
  malloc_detail::free_slow(p, code);
}

void* sm_calloc(std::size_t count, std::size_t size) noexcept;
void* sm_realloc(void* p, std::size_t bytes) noexcept;
void* sm_reallocarray(void* p, std::size_t count, std::size_t size) noexcept;
int sm_posix_memalign(void** out, std::size_t alignment, std::size_t bytes) noexcept;
void* sm_memalign(std::size_t alignment, std::size_t bytes) noexcept;  // also aligned_alloc
void* sm_valloc(std::size_t bytes) noexcept;
void* sm_pvalloc(std::size_t bytes) noexcept;
std::size_t sm_malloc_usable_size(const void* p) noexcept;

// operator new's contract: nullptr only where `nothrow`; else the new_handler is called until it
// frees memory or throws, and std::bad_alloc without one. alignment 0: kMallocAlignment.
void* sm_new(std::size_t bytes, std::size_t alignment, bool nothrow);

// The process's figures: the engine's resource_stats, plus the large blocks and the bootstrap arena.
struct sm_stats {
  std::uint64_t allocations = 0, deallocations = 0, live_blocks = 0;
  std::uint64_t bytes_held = 0, peak_bytes_held = 0, contention_events = 0;
  std::uint64_t large_allocations = 0, large_deallocations = 0, large_bytes_live = 0, large_bytes_cached = 0;
  std::uint64_t bootstrap_blocks = 0, bootstrap_bytes = 0;
};
sm_stats sm_collect_stats() noexcept;
// Writes them to stderr (write(2), nothing allocated through the heap): ALLOCBENCH_STATS=1 does at exit.
void sm_print_stats() noexcept;
// Whether ALLOCBENCH_STATS=1 was set when the heap was built.
bool sm_stats_requested() noexcept;
// pthread_atfork handlers that take every lock of the front end and the engine; installed once.
void sm_install_fork_handlers() noexcept;

}  // namespace allocbench
