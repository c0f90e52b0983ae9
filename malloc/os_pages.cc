#include "malloc/os_pages.h"

#include <sys/mman.h>

#include <cstdint>

namespace allocbench::malloc_detail {

void* map_pages(std::size_t bytes, std::size_t alignment) noexcept {
  const std::size_t extra = alignment > kPageBytes ? alignment - kPageBytes : 0;
  if (bytes + extra < bytes) return nullptr;
  void* m = mmap(nullptr, bytes + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  if (extra == 0) return m;
  // Over-mapped by alignment - one page: cut the unaligned head and the tail that is left.
  const auto base = reinterpret_cast<std::uintptr_t>(m);
  const std::uintptr_t aligned = (base + alignment - 1) & ~(std::uintptr_t(alignment) - 1);
  const std::size_t head = aligned - base;
  if (head != 0) munmap(m, head);
  const std::size_t tail = extra - head;
  if (tail != 0) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  return reinterpret_cast<void*>(aligned);
}

void unmap_pages(void* p, std::size_t bytes) noexcept { munmap(p, bytes); }

void* remap_pages(void* p, std::size_t old_bytes, std::size_t new_bytes) noexcept {
  void* m = mremap(p, old_bytes, new_bytes, MREMAP_MAYMOVE);
  return m == MAP_FAILED ? nullptr : m;
}

}  // namespace allocbench::malloc_detail
