#include "bench/peers/jemalloc_resource.h"

#include <jemalloc/jemalloc.h>

#include <new>

namespace allocbench::bench {
namespace {
// mallocx(0) is undefined; a zero-byte request takes one byte, on both sides.
std::size_t at_least_one(std::size_t bytes) { return bytes == 0 ? 1 : bytes; }
// jemalloc's size classes from 16 bytes up are multiples of 16 and so 16-byte aligned; only the
// 8-byte class, and alignments above 16, need MALLOCX_ALIGN. Sized free takes the same flags.
int flags_for(std::size_t bytes, std::size_t alignment) {
  return alignment <= 8 || (alignment <= 16 && bytes >= 16) ? 0 : MALLOCX_ALIGN(alignment);
}
}  // namespace

void* jemalloc_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = mallocx(at_least_one(bytes), flags_for(bytes, alignment));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void jemalloc_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  sdallocx(p, at_least_one(bytes), flags_for(bytes, alignment));
}

std::size_t jemalloc_resource::usable_size(void* p) const noexcept { return sallocx(p, 0); }

const char* jemalloc_resource::version() { return JEMALLOC_VERSION; }

}  // namespace allocbench::bench
