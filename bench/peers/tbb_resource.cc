#include "bench/peers/tbb_resource.h"

#include <tbb/scalable_allocator.h>
#include <tbb/version.h>

#include <new>

namespace allocbench::bench {

// TBB has 8-byte-aligned bins (8, 24, ...), so anything above 8 takes the aligned entry point.
void* tbb_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = alignment <= 8 ? scalable_malloc(bytes) : scalable_aligned_malloc(bytes, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void tbb_resource::do_deallocate(void* p, std::size_t, std::size_t alignment) {
  if (alignment <= 8) {
    scalable_free(p);
  } else {
    scalable_aligned_free(p);
  }
}

std::size_t tbb_resource::usable_size(void* p) const noexcept { return scalable_msize(p); }

std::string tbb_resource::version() { return TBB_VERSION_STRING; }

}  // namespace allocbench::bench
