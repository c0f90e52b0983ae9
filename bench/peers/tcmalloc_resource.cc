#include "bench/peers/tcmalloc_resource.h"

#include <gperftools/tcmalloc.h>

#include <new>

namespace allocbench::bench {

namespace {
// tcmalloc's size classes from 16 bytes up are multiples of 16 (only the 8-byte class is not), so a
// 16-byte alignment is a request of at least 16 bytes, and keeps the sized fast path.
std::size_t plain_size(std::size_t bytes, std::size_t alignment) {
  return alignment > 8 && bytes < 16 ? 16 : bytes;
}
}  // namespace

void* tcmalloc_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = alignment <= kNaturalAlignment ? tc_malloc(plain_size(bytes, alignment)) : tc_memalign(alignment, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void tcmalloc_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  // A memaligned block may sit in a larger class than its size says: free it unsized.
  if (alignment <= kNaturalAlignment) {
    tc_free_sized(p, plain_size(bytes, alignment));
  } else {
    tc_free(p);
  }
}

std::size_t tcmalloc_resource::usable_size(void* p) const noexcept { return tc_malloc_size(p); }

const char* tcmalloc_resource::version() { return TC_VERSION_STRING; }

}  // namespace allocbench::bench
