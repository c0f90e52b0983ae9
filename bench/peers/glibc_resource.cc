#include "bench/peers/glibc_resource.h"

#include <malloc.h>

#include <cstdlib>
#include <new>

namespace allocbench::bench {

void* glibc_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  // aligned_alloc wants a size that is a multiple of the alignment (C11).
  void* p = alignment <= kNaturalAlignment ? std::malloc(bytes)
                                           : std::aligned_alloc(alignment, (bytes + alignment - 1) & ~(alignment - 1));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void glibc_resource::do_deallocate(void* p, std::size_t, std::size_t) { std::free(p); }

std::size_t glibc_resource::usable_size(void* p) const noexcept { return malloc_usable_size(p); }

}  // namespace allocbench::bench
