#include "bench/peers/mimalloc_resource.h"

#include <mimalloc.h>

#include <new>

namespace allocbench::bench {

void* mimalloc_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = mi_malloc_aligned(bytes, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void mimalloc_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  mi_free_size_aligned(p, bytes, alignment);
}

std::size_t mimalloc_resource::usable_size(void* p) const noexcept { return mi_usable_size(p); }

std::string mimalloc_resource::version() {
  const int v = mi_version();  // major * 100 + minor * 10 + patch: 209 is 2.0.9
  return std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." + std::to_string(v % 10);
}

}  // namespace allocbench::bench
