// The allocator underneath the recorder: the next definition of each function after ours in the
// dynamic linker's search order (dlsym(RTLD_NEXT)), so that a program linked against jemalloc or
// tcmalloc keeps its allocator while it is recorded.
//
// Bootstrap: dlsym itself may call calloc or malloc before the real functions are known. Those calls
// are served from a small static buffer; its blocks are never given back (free ignores them).
#pragma once

#include <cstddef>

namespace allocbench::record {

struct real_functions {
  void* (*malloc)(std::size_t) = nullptr;
  void (*free)(void*) = nullptr;
  void* (*calloc)(std::size_t, std::size_t) = nullptr;
  void* (*realloc)(void*, std::size_t) = nullptr;
  int (*posix_memalign)(void**, std::size_t, std::size_t) = nullptr;
  void* (*aligned_alloc)(std::size_t, std::size_t) = nullptr;
  void* (*memalign)(std::size_t, std::size_t) = nullptr;
  void* (*valloc)(std::size_t) = nullptr;
  void* (*pvalloc)(std::size_t) = nullptr;
};

extern real_functions real;

// Looks the functions up once; false while a lookup is under way (the caller then uses bootstrap_*).
bool resolve_real() noexcept;

void* bootstrap_alloc(std::size_t bytes, std::size_t alignment) noexcept;
bool in_bootstrap(const void* p) noexcept;
// The size a bootstrap block was asked with (realloc of one copies that much).
std::size_t bootstrap_size(const void* p) noexcept;

// The next operator new/delete by mangled name, looked up on first use (nullptr when no C++ runtime
// is loaded: then the caller falls back to malloc and free).
void* next_symbol(const char* mangled) noexcept;

}  // namespace allocbench::record
