// The calling thread's most recently used scalable_heap cache, and the one key the fast path compares.
#pragma once

#include <atomic>
#include <cstdint>

namespace allocbench::detail {

// One compare instead of the registry's table lookup while a thread keeps using one resource. Heap
// ids start at 1 and are never reused, so an entry left by a destroyed heap never matches; a thread's
// entry is cleared when its cache is destroyed at its exit.
//
// fast_id is heap_id while no allocation scope is open on this thread, and 0 (no heap's id) while one
// is: the fast path compares only fast_id, so a single compare covers both "this heap's cache" and
// "no scope to report to". Whoever changes tls_scope_top or heap_id calls refresh_fast_id().
struct last_thread_cache {
  std::uint64_t fast_id = 0;  // read by the fast path, with cache: first, on one line
  void* cache = nullptr;
  std::uint64_t heap_id = 0;  // read by the slow path, which serves scoped calls too
};
// Initial-exec in code built for shared objects (liballocbench.so, libscalable_malloc.so): the fast
// path then reads it with a %fs-relative load instead of a call to __tls_get_addr on every call.
// Executables keep the compiler's choice (local-exec: one instruction fewer than initial-exec). Its
// 24 bytes fit in the static-TLS surplus glibc keeps for libraries loaded by dlopen. Keep it the only
// initial-exec variable of any shared object: gold gave two such variables of one object one offset.
#if defined(__PIC__) && !defined(__PIE__)
#define ALLOCBENCH_FAST_TLS [[gnu::tls_model("initial-exec")]]
#else
#define ALLOCBENCH_FAST_TLS
#endif
ALLOCBENCH_FAST_TLS inline constinit thread_local last_thread_cache tls_last_thread_cache = {};

// fast_id is also written by other threads: release_unused() closes an idle thread's fast path (sets
// its fast_id from the heap's id to 0) before it drains that thread's cache. So every access is atomic
// (relaxed: one plain mov on x86-64, the fast path's code is unchanged), which keeps ThreadSanitizer
// informed.
inline std::uint64_t load_fast_id(const last_thread_cache& t = tls_last_thread_cache) noexcept {
  return std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(t.fast_id)).load(std::memory_order_relaxed);
}
inline void store_fast_id(std::uint64_t v, last_thread_cache& t = tls_last_thread_cache) noexcept {
  std::atomic_ref<std::uint64_t>(t.fast_id).store(v, std::memory_order_relaxed);
}

}  // namespace allocbench::detail
