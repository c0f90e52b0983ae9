// Memory straight from the kernel (mmap/munmap), for the malloc front end: nothing here calls malloc,
// so it is safe before main, in a nested call and after fork().
#pragma once

#include <cstddef>

namespace allocbench::malloc_detail {

inline constexpr std::size_t kPageBytes = 4096;

// `bytes` (a multiple of kPageBytes, > 0) of zeroed, read-write pages aligned to `alignment` (a power
// of two; at most kPageBytes costs nothing extra, more maps the excess and unmaps it again), or
// nullptr when the kernel refuses.
void* map_pages(std::size_t bytes, std::size_t alignment) noexcept;
// Gives back pages from map_pages (any page-aligned part of them).
void unmap_pages(void* p, std::size_t bytes) noexcept;
// Moves a mapping to a new length (mremap, possibly to a new address); nullptr when it cannot.
void* remap_pages(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept;

// `bytes` rounded up to whole pages; 0 where that overflows or passes what a process can map.
inline std::size_t page_round(std::size_t bytes) noexcept {
  constexpr std::size_t kMaxMapping = std::size_t(1) << 47;  // x86-64 user address space
  if (bytes > kMaxMapping) return 0;
  return (bytes + kPageBytes - 1) & ~(kPageBytes - 1);
}

}  // namespace allocbench::malloc_detail
