// Pages straight from the kernel (mmap/munmap) for the scalable engine's own memory: the spans of
// os_span_source and the large blocks of large_block_shards. (malloc/os_pages.h does the same for the
// malloc front end, which depends on this package, so it cannot be used from here.)
#pragma once

#include <cstddef>

namespace allocbench::detail {

inline constexpr std::size_t kKernelPageBytes = 4096;
// Beyond this no mapping is asked for: half the x86-64 user address space.
inline constexpr std::size_t kMaxMappingBytes = std::size_t(1) << 46;

// `bytes` rounded up to whole pages; 0 where that passes kMaxMappingBytes.
inline std::size_t kernel_page_round(std::size_t bytes) noexcept {
  if (bytes > kMaxMappingBytes) return 0;
  return (bytes + kKernelPageBytes - 1) & ~(kKernelPageBytes - 1);
}

// `bytes` (whole pages) of zeroed read-write address space, nullptr when the kernel refuses. No page
// is touched; `reserve` also keeps untouched pages out of the commit charge (MAP_NORESERVE), for
// regions that are carved over time.
void* map_kernel_pages(std::size_t bytes, bool reserve) noexcept;
// `bytes` (a power of two, whole pages) aligned to `bytes`: maps twice as much and unmaps the excess.
void* map_kernel_pages_aligned(std::size_t bytes) noexcept;
// Gives any page-aligned part of a mapping back.
void unmap_kernel_pages(void* p, std::size_t bytes) noexcept;
// Keeps the range mapped but gives its pages back (MADV_DONTNEED): it reads as zeros afterwards.
void discard_kernel_pages(void* p, std::size_t bytes) noexcept;

}  // namespace allocbench::detail
