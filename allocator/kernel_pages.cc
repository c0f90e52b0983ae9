#include "allocator/kernel_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace allocbench::detail {

void* map_kernel_pages(std::size_t bytes, bool reserve) noexcept {
  const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserve ? MAP_NORESERVE : 0);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void* map_kernel_pages_aligned(std::size_t bytes) noexcept {
  char* raw = static_cast<char*>(map_kernel_pages(2 * bytes, true));
  if (raw == nullptr) return nullptr;
  const auto addr = reinterpret_cast<std::uintptr_t>(raw);
  char* aligned = raw + (((addr + bytes - 1) & ~(bytes - 1)) - addr);
  if (aligned != raw) ::munmap(raw, std::size_t(aligned - raw));
  if (char* tail = aligned + bytes; tail != raw + 2 * bytes) ::munmap(tail, std::size_t(raw + 2 * bytes - tail));
  return aligned;
}

void unmap_kernel_pages(void* p, std::size_t bytes) noexcept { ::munmap(p, bytes); }

void discard_kernel_pages(void* p, std::size_t bytes) noexcept { ::madvise(p, bytes, MADV_DONTNEED); }

}  // namespace allocbench::detail
