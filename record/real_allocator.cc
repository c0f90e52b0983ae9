#include "record/real_allocator.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>

namespace allocbench::record {

real_functions real;

namespace {

constexpr std::size_t kBootstrapBytes = 64 * 1024;
alignas(4096) unsigned char bootstrap_buffer[kBootstrapBytes];
std::atomic<std::size_t> bootstrap_used{0};
std::atomic<int> state{0};  // 0 unresolved, 1 resolving, 2 resolved

template <typename F>
void look_up(F& slot, const char* name) {
  slot = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

}  // namespace

bool resolve_real() noexcept {
  int s = state.load(std::memory_order_acquire);
  if (s == 2) return true;
  if (s == 1 || !state.compare_exchange_strong(s, 1, std::memory_order_acq_rel)) {
    return state.load(std::memory_order_acquire) == 2;
  }
  real_functions r;
  look_up(r.malloc, "malloc");
  look_up(r.free, "free");
  look_up(r.calloc, "calloc");
  look_up(r.realloc, "realloc");
  look_up(r.posix_memalign, "posix_memalign");
  look_up(r.aligned_alloc, "aligned_alloc");
  look_up(r.memalign, "memalign");
  look_up(r.valloc, "valloc");
  look_up(r.pvalloc, "pvalloc");
  // malloc last: the interposed functions test it to know that everything is there.
  real.free = r.free;
  real.calloc = r.calloc;
  real.realloc = r.realloc;
  real.posix_memalign = r.posix_memalign;
  real.aligned_alloc = r.aligned_alloc;
  real.memalign = r.memalign;
  real.valloc = r.valloc;
  real.pvalloc = r.pvalloc;
  std::atomic_thread_fence(std::memory_order_release);
  real.malloc = r.malloc;
  state.store(2, std::memory_order_release);
  return true;
}

void* bootstrap_alloc(std::size_t bytes, std::size_t alignment) noexcept {
  if (alignment < 16) alignment = 16;
  // Each block is preceded by 16 bytes holding its size.
  std::size_t used = bootstrap_used.load(std::memory_order_relaxed);
  for (;;) {
    const std::size_t start = (used + 16 + alignment - 1) & ~(alignment - 1);
    if (bytes > kBootstrapBytes || start + bytes > kBootstrapBytes) return nullptr;
    if (bootstrap_used.compare_exchange_weak(used, start + bytes, std::memory_order_relaxed)) {
      *reinterpret_cast<std::size_t*>(bootstrap_buffer + start - 16) = bytes;
      return bootstrap_buffer + start;  // static storage: already zero, as calloc needs
    }
  }
}

bool in_bootstrap(const void* p) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const auto b = reinterpret_cast<std::uintptr_t>(bootstrap_buffer);
  return a >= b && a < b + kBootstrapBytes;
}

std::size_t bootstrap_size(const void* p) noexcept {
  return *reinterpret_cast<const std::size_t*>(static_cast<const unsigned char*>(p) - 16);
}

void* next_symbol(const char* mangled) noexcept { return dlsym(RTLD_NEXT, mangled); }

}  // namespace allocbench::record
