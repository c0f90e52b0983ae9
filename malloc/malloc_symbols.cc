// glibc's allocation API and every operator new/delete, under their own names, served by the front
// end (malloc/front_end.h). Linked into a program (//malloc:scalable_malloc) or preloaded
// (libscalable_malloc.so), these replace glibc's malloc for the whole process.
//
// operator delete ignores the size and alignment it is given: the page map knows the block, and a
// block the engine allocated for itself (from the bootstrap arena) may be deleted with any size.
#include <malloc.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "malloc/front_end.h"

using allocbench::sm_free;
using allocbench::sm_malloc;

extern "C" {

void* malloc(std::size_t bytes) { return sm_malloc(bytes); }
void free(void* p) { sm_free(p); }
void* calloc(std::size_t count, std::size_t size) { return allocbench::sm_calloc(count, size); }
void* realloc(void* p, std::size_t bytes) { return allocbench::sm_realloc(p, bytes); }
void* reallocarray(void* p, std::size_t count, std::size_t size) {
  return allocbench::sm_reallocarray(p, count, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t bytes) {
  return allocbench::sm_posix_memalign(out, alignment, bytes);
}
void* aligned_alloc(std::size_t alignment, std::size_t bytes) { return allocbench::sm_memalign(alignment, bytes); }
void* memalign(std::size_t alignment, std::size_t bytes) { return allocbench::sm_memalign(alignment, bytes); }
void* valloc(std::size_t bytes) { return allocbench::sm_valloc(bytes); }
void* pvalloc(std::size_t bytes) { return allocbench::sm_pvalloc(bytes); }
std::size_t malloc_usable_size(void* p) { return allocbench::sm_malloc_usable_size(p); }

}  // extern "C"

// ---- operator new and delete. --------------------------------------------------------------------

void* operator new(std::size_t bytes) {
  if (void* p = sm_malloc(bytes)) [[likely]] return p;
  return allocbench::sm_new(bytes, 0, false);
}
void* operator new[](std::size_t bytes) { return operator new(bytes); }
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
  if (void* p = sm_malloc(bytes)) [[likely]] return p;
  return allocbench::sm_new(bytes, 0, true);
}
void* operator new[](std::size_t bytes, const std::nothrow_t& nt) noexcept { return operator new(bytes, nt); }
void* operator new(std::size_t bytes, std::align_val_t alignment) {
  return allocbench::sm_new(bytes, std::size_t(alignment), false);
}
void* operator new[](std::size_t bytes, std::align_val_t alignment) { return operator new(bytes, alignment); }
void* operator new(std::size_t bytes, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocbench::sm_new(bytes, std::size_t(alignment), true);
}
void* operator new[](std::size_t bytes, std::align_val_t alignment, const std::nothrow_t& nt) noexcept {
  return operator new(bytes, alignment, nt);
}

void operator delete(void* p) noexcept { sm_free(p); }
void operator delete[](void* p) noexcept { sm_free(p); }
void operator delete(void* p, std::size_t) noexcept { sm_free(p); }
void operator delete[](void* p, std::size_t) noexcept { sm_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { sm_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { sm_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { sm_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { sm_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { sm_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { sm_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { sm_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { sm_free(p); }

// ---- Process start and exit. ---------------------------------------------------------------------

namespace {

// Before main (or when the library is loaded): fork handlers, installed here rather than on the
// first malloc, which may run inside glibc with its atfork lock held. The heap itself is built by
// whichever call comes first.
[[gnu::constructor]] void on_load() {
  allocbench::sm_install_fork_handlers();
  allocbench::sm_free(allocbench::sm_malloc(1));  // builds the heap now: a bad layout shows before main
}

// ALLOCBENCH_STATS=1: the figures, once every exit handler registered with atexit has run (ELF
// destructors run after them); the heap stays, for whatever still frees after this.
[[gnu::destructor]] void on_unload() {
  if (allocbench::sm_stats_requested()) allocbench::sm_print_stats();
}

}  // namespace
