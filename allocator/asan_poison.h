// AddressSanitizer's manual poisoning of the blocks our pools hold free, so that a use after free of
// a pool block is reported (use-after-poison) as one of a heap block is. Compiles to nothing unless
// the build is under AddressSanitizer (--config=asan).
//
// One rule for every pool: a free block held by a pool is poisoned except its first
// kFreeBlockLinkBytes, where the pool's free-list links live (free_list, block_chain, span_arena and
// the thread caches use the first word; best_fit's free_links use the first two: that pool passes
// its own link size). So no link access needs unpoisoning, and the cost is one call per free and
// one per allocation. A read or write of a freed block from its link bytes on is not caught.
// - poison_free_block where a block comes back from the user into the pool's structures;
// - unpoison_block where a block leaves them for the user (all of it);
// - unpoison_block over a whole chunk, span or region before it goes back upstream, which may hand
//   the memory to someone else (a test's buffer, another pool).
// Memory carved from upstream but never handed out is not poisoned.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define ALLOCBENCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOCBENCH_ASAN 1
#endif
#endif

#ifdef ALLOCBENCH_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace allocbench::detail {

inline constexpr std::size_t kFreeBlockLinkBytes = sizeof(void*);
inline constexpr bool kAsanPoisoning =
#ifdef ALLOCBENCH_ASAN
    true;
#else
    false;
#endif

// `block` of `bytes` is now free in a pool: poison it from `link_bytes` on.
inline void poison_free_block(void* block, std::size_t bytes,
                              std::size_t link_bytes = kFreeBlockLinkBytes) noexcept {
#ifdef ALLOCBENCH_ASAN
  if (bytes > link_bytes) ASAN_POISON_MEMORY_REGION(static_cast<char*>(block) + link_bytes, bytes - link_bytes);
#else
  (void)block, (void)bytes, (void)link_bytes;
#endif
}

// `block` of `bytes` leaves the pool (to the user, or back upstream): all of it becomes addressable.
inline void unpoison_block(void* block, std::size_t bytes) noexcept {
#ifdef ALLOCBENCH_ASAN
  ASAN_UNPOISON_MEMORY_REGION(block, bytes);
#else
  (void)block, (void)bytes;
#endif
}

}  // namespace allocbench::detail
