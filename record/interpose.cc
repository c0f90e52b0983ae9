// The functions an LD_PRELOAD of this library replaces: the malloc family and every operator
// new/delete form. Each forwards to the allocator underneath (real_allocator.h) and records the call
// (recorder.h) unless it is nested inside another interposed call (the allocator's own use of malloc,
// operator new calling malloc, the recorder's system calls), which `tls.depth` tells.
//
// Timestamps: an allocation is recorded after the real call returns, a free before it, so that a
// clock reading taken for it orders a block's allocation before any use of it by another thread and a
// free before the reuse of its address. realloc is recorded after the call (its old block is freed
// and the new one returned inside it); the block resolver orders what a reading leaves ambiguous.
// Failed calls are not recorded; free(NULL) is not recorded.
#include <cstdlib>
#include <cstring>
#include <new>

#include "record/real_allocator.h"
#include "record/recorder.h"

#define ALLOCBENCH_EXPORT __attribute__((visibility("default")))

namespace ar = allocbench::record;
namespace at = allocbench::trace;
using at::event_kind;

namespace {

__attribute__((constructor(101))) void on_load() { ar::start(); }
__attribute__((destructor(101))) void on_unload() { ar::finish(); }

inline bool ready() noexcept { return ar::real.malloc != nullptr || ar::resolve_real(); }

// Inside an interposed call: restores the depth also when operator new throws.
struct nested {
  ar::thread_state& t;
  explicit nested(ar::thread_state& s) noexcept : t(s) { ++t.depth; }
  ~nested() { --t.depth; }
};

inline bool recording(const ar::thread_state& t) noexcept {
  return t.depth == 0 && ar::active.load(std::memory_order_relaxed);
}

void after_allocation(ar::thread_state& t, event_kind kind, std::uint8_t flags, void* p, std::size_t size,
                      std::size_t alignment) noexcept {
  if (p != nullptr) ar::record(kind, flags, p, nullptr, size, ar::log2_of(alignment));
  (void)t;
}

// The next operator new/delete, looked up by mangled name on first use.
struct next_fn {
  const char* name;
  std::atomic<void*> fn{nullptr};
  template <typename F>
  F get() noexcept {
    void* f = fn.load(std::memory_order_relaxed);
    if (f == nullptr) {
      ++ar::tls.depth;  // dlsym may allocate
      f = ar::next_symbol(name);
      --ar::tls.depth;
      fn.store(f, std::memory_order_relaxed);
    }
    return reinterpret_cast<F>(f);
  }
};

next_fn next_new{"_Znwm"}, next_new_array{"_Znam"}, next_new_nothrow{"_ZnwmRKSt9nothrow_t"},
    next_new_array_nothrow{"_ZnamRKSt9nothrow_t"}, next_new_aligned{"_ZnwmSt11align_val_t"},
    next_new_array_aligned{"_ZnamSt11align_val_t"}, next_new_aligned_nothrow{"_ZnwmSt11align_val_tRKSt9nothrow_t"},
    next_new_array_aligned_nothrow{"_ZnamSt11align_val_tRKSt9nothrow_t"};
next_fn next_delete{"_ZdlPv"}, next_delete_array{"_ZdaPv"}, next_delete_sized{"_ZdlPvm"},
    next_delete_array_sized{"_ZdaPvm"}, next_delete_aligned{"_ZdlPvSt11align_val_t"},
    next_delete_array_aligned{"_ZdaPvSt11align_val_t"}, next_delete_sized_aligned{"_ZdlPvmSt11align_val_t"},
    next_delete_array_sized_aligned{"_ZdaPvmSt11align_val_t"};

// Without a C++ runtime underneath (nothing defines the next operator new) these stand in for it.
void* fallback_new(std::size_t n, std::size_t alignment, bool nothrow) {
  void* p = nullptr;
  if (alignment <= 16) p = ar::real.malloc(n == 0 ? 1 : n);
  else if (ar::real.posix_memalign(&p, alignment, n == 0 ? 1 : n) != 0) p = nullptr;
  if (p == nullptr && !nothrow) std::abort();
  return p;
}

void* do_new(next_fn& next, event_kind kind, std::size_t n) {
  ready();
  ar::thread_state& t = ar::tls;
  auto f = next.get<void* (*)(std::size_t)>();
  if (!recording(t)) return f != nullptr ? f(n) : fallback_new(n, 0, false);
  nested guard(t);
  void* p = f != nullptr ? f(n) : fallback_new(n, 0, false);
  after_allocation(t, kind, 0, p, n, 0);
  return p;
}

void* do_new_nothrow(next_fn& next, event_kind kind, std::size_t n) noexcept {
  ready();
  ar::thread_state& t = ar::tls;
  auto f = next.get<void* (*)(std::size_t, const std::nothrow_t&)>();
  if (!recording(t)) return f != nullptr ? f(n, std::nothrow) : fallback_new(n, 0, true);
  nested guard(t);
  void* p = f != nullptr ? f(n, std::nothrow) : fallback_new(n, 0, true);
  after_allocation(t, kind, at::kFlagNothrow, p, n, 0);
  return p;
}

void* do_new_aligned(next_fn& next, event_kind kind, std::size_t n, std::align_val_t al) {
  ready();
  ar::thread_state& t = ar::tls;
  auto f = next.get<void* (*)(std::size_t, std::align_val_t)>();
  if (!recording(t)) return f != nullptr ? f(n, al) : fallback_new(n, std::size_t(al), false);
  nested guard(t);
  void* p = f != nullptr ? f(n, al) : fallback_new(n, std::size_t(al), false);
  after_allocation(t, kind, at::kFlagAlign, p, n, std::size_t(al));
  return p;
}

void* do_new_aligned_nothrow(next_fn& next, event_kind kind, std::size_t n, std::align_val_t al) noexcept {
  ready();
  ar::thread_state& t = ar::tls;
  auto f = next.get<void* (*)(std::size_t, std::align_val_t, const std::nothrow_t&)>();
  if (!recording(t)) return f != nullptr ? f(n, al, std::nothrow) : fallback_new(n, std::size_t(al), true);
  nested guard(t);
  void* p = f != nullptr ? f(n, al, std::nothrow) : fallback_new(n, std::size_t(al), true);
  after_allocation(t, kind, at::kFlagAlign | at::kFlagNothrow, p, n, std::size_t(al));
  return p;
}

// Every delete form: record, then hand the pointer to the next definition of the same form (or of
// the plain form, or free, when there is none).
void do_delete(next_fn& next, event_kind kind, std::uint8_t flags, void* p, std::size_t size, std::size_t alignment) noexcept {
  if (p == nullptr) return;
  ready();
  ar::thread_state& t = ar::tls;
  const bool rec = recording(t);
  ++t.depth;
  if (rec) ar::record(kind, flags, p, nullptr, size, ar::log2_of(alignment));
  void* f = next.get<void*>();
  if (f == nullptr) {
    ar::real.free(p);
  } else if ((flags & at::kFlagSize) != 0 && (flags & at::kFlagAlign) != 0) {
    reinterpret_cast<void (*)(void*, std::size_t, std::align_val_t)>(f)(p, size, std::align_val_t(alignment));
  } else if ((flags & at::kFlagSize) != 0) {
    reinterpret_cast<void (*)(void*, std::size_t)>(f)(p, size);
  } else if ((flags & at::kFlagAlign) != 0) {
    reinterpret_cast<void (*)(void*, std::align_val_t)>(f)(p, std::align_val_t(alignment));
  } else {
    reinterpret_cast<void (*)(void*)>(f)(p);
  }
  --t.depth;
}

// posix_memalign, aligned_alloc, memalign, valloc, pvalloc: one shape.
template <typename Call>
void* aligned_family(event_kind kind, std::size_t size, std::size_t alignment, Call call) noexcept {
  ar::thread_state& t = ar::tls;
  if (!recording(t)) return call();
  nested guard(t);
  void* p = call();
  after_allocation(t, kind, at::kFlagAlign, p, size, alignment);
  return p;
}

constexpr std::size_t kPage = 4096;

}  // namespace

extern "C" {

ALLOCBENCH_EXPORT void* malloc(std::size_t n) {
  if (__builtin_expect(!ready(), 0)) return ar::bootstrap_alloc(n, 16);
  ar::thread_state& t = ar::tls;
  if (!recording(t)) return ar::real.malloc(n);
  nested guard(t);
  void* p = ar::real.malloc(n);
  after_allocation(t, event_kind::malloc, 0, p, n, 0);
  return p;
}

ALLOCBENCH_EXPORT void free(void* p) {
  if (p == nullptr || ar::in_bootstrap(p)) return;
  ready();
  ar::thread_state& t = ar::tls;
  if (!recording(t)) return ar::real.free(p);
  nested guard(t);
  ar::record(event_kind::free, 0, p, nullptr, 0, 0);
  ar::real.free(p);
}

ALLOCBENCH_EXPORT void* calloc(std::size_t count, std::size_t size) {
  if (__builtin_expect(!ready(), 0)) {
    std::size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return nullptr;
    return ar::bootstrap_alloc(total, 16);
  }
  ar::thread_state& t = ar::tls;
  if (!recording(t)) return ar::real.calloc(count, size);
  nested guard(t);
  void* p = ar::real.calloc(count, size);
  after_allocation(t, event_kind::calloc, 0, p, count * size, 0);
  return p;
}

ALLOCBENCH_EXPORT void* realloc(void* old, std::size_t n) {
  if (__builtin_expect(!ready(), 0)) return nullptr;
  if (old != nullptr && ar::in_bootstrap(old)) {
    // A block from before the real allocator was known: move it into a real (recorded) one.
    void* p = malloc(n);
    if (p != nullptr) std::memcpy(p, old, std::min(n, ar::bootstrap_size(old)));
    return p;
  }
  ar::thread_state& t = ar::tls;
  if (!recording(t)) return ar::real.realloc(old, n);
  nested guard(t);
  void* p = ar::real.realloc(old, n);
  // realloc(p, 0) that freed p is recorded with new address 0; a failure (NULL for n > 0) not at all.
  if (p != nullptr || (old != nullptr && n == 0)) ar::record(event_kind::realloc, 0, old, p, n, 0);
  return p;
}

ALLOCBENCH_EXPORT int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  ready();
  int rc = 0;
  void* p = aligned_family(event_kind::posix_memalign, n, alignment, [&]() -> void* {
    rc = ar::real.posix_memalign(out, alignment, n);
    return rc == 0 ? *out : nullptr;
  });
  (void)p;
  return rc;
}

ALLOCBENCH_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t n) {
  ready();
  return aligned_family(event_kind::aligned_alloc, n, alignment, [&] { return ar::real.aligned_alloc(alignment, n); });
}

ALLOCBENCH_EXPORT void* memalign(std::size_t alignment, std::size_t n) {
  ready();
  return aligned_family(event_kind::memalign, n, alignment, [&] { return ar::real.memalign(alignment, n); });
}

ALLOCBENCH_EXPORT void* valloc(std::size_t n) {
  ready();
  return aligned_family(event_kind::valloc, n, kPage, [&] { return ar::real.valloc(n); });
}

ALLOCBENCH_EXPORT void* pvalloc(std::size_t n) {
  ready();
  // pvalloc rounds the size up to whole pages: that is what the program holds.
  const std::size_t rounded = (n + kPage - 1) & ~(kPage - 1);
  return aligned_family(event_kind::pvalloc, rounded, kPage, [&] { return ar::real.pvalloc(n); });
}

}  // extern "C"

ALLOCBENCH_EXPORT void* operator new(std::size_t n) { return do_new(next_new, event_kind::op_new, n); }
ALLOCBENCH_EXPORT void* operator new[](std::size_t n) { return do_new(next_new_array, event_kind::op_new_array, n); }
ALLOCBENCH_EXPORT void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return do_new_nothrow(next_new_nothrow, event_kind::op_new, n);
}
ALLOCBENCH_EXPORT void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return do_new_nothrow(next_new_array_nothrow, event_kind::op_new_array, n);
}
ALLOCBENCH_EXPORT void* operator new(std::size_t n, std::align_val_t al) {
  return do_new_aligned(next_new_aligned, event_kind::op_new, n, al);
}
ALLOCBENCH_EXPORT void* operator new[](std::size_t n, std::align_val_t al) {
  return do_new_aligned(next_new_array_aligned, event_kind::op_new_array, n, al);
}
ALLOCBENCH_EXPORT void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return do_new_aligned_nothrow(next_new_aligned_nothrow, event_kind::op_new, n, al);
}
ALLOCBENCH_EXPORT void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return do_new_aligned_nothrow(next_new_array_aligned_nothrow, event_kind::op_new_array, n, al);
}

ALLOCBENCH_EXPORT void operator delete(void* p) noexcept { do_delete(next_delete, event_kind::op_delete, 0, p, 0, 0); }
ALLOCBENCH_EXPORT void operator delete[](void* p) noexcept {
  do_delete(next_delete_array, event_kind::op_delete_array, 0, p, 0, 0);
}
ALLOCBENCH_EXPORT void operator delete(void* p, std::size_t n) noexcept {
  do_delete(next_delete_sized, event_kind::op_delete, at::kFlagSize, p, n, 0);
}
ALLOCBENCH_EXPORT void operator delete[](void* p, std::size_t n) noexcept {
  do_delete(next_delete_array_sized, event_kind::op_delete_array, at::kFlagSize, p, n, 0);
}
ALLOCBENCH_EXPORT void operator delete(void* p, std::align_val_t al) noexcept {
  do_delete(next_delete_aligned, event_kind::op_delete, at::kFlagAlign, p, 0, std::size_t(al));
}
ALLOCBENCH_EXPORT void operator delete[](void* p, std::align_val_t al) noexcept {
  do_delete(next_delete_array_aligned, event_kind::op_delete_array, at::kFlagAlign, p, 0, std::size_t(al));
}
ALLOCBENCH_EXPORT void operator delete(void* p, std::size_t n, std::align_val_t al) noexcept {
  do_delete(next_delete_sized_aligned, event_kind::op_delete, at::kFlagSize | at::kFlagAlign, p, n, std::size_t(al));
}
ALLOCBENCH_EXPORT void operator delete[](void* p, std::size_t n, std::align_val_t al) noexcept {
  do_delete(next_delete_array_sized_aligned, event_kind::op_delete_array, at::kFlagSize | at::kFlagAlign, p, n,
            std::size_t(al));
}
// The nothrow deletes are what a failed nothrow new's constructor calls: the plain forms underneath.
ALLOCBENCH_EXPORT void operator delete(void* p, const std::nothrow_t&) noexcept {
  do_delete(next_delete, event_kind::op_delete, 0, p, 0, 0);
}
ALLOCBENCH_EXPORT void operator delete[](void* p, const std::nothrow_t&) noexcept {
  do_delete(next_delete_array, event_kind::op_delete_array, 0, p, 0, 0);
}
ALLOCBENCH_EXPORT void operator delete(void* p, std::align_val_t al, const std::nothrow_t&) noexcept {
  do_delete(next_delete_aligned, event_kind::op_delete, at::kFlagAlign, p, 0, std::size_t(al));
}
ALLOCBENCH_EXPORT void operator delete[](void* p, std::align_val_t al, const std::nothrow_t&) noexcept {
  do_delete(next_delete_array_aligned, event_kind::op_delete_array, at::kFlagAlign, p, 0, std::size_t(al));
}
