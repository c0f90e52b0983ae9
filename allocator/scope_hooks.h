// The hook through which allocation_scope (pmr/allocation_scope.h) sees allocations: each thread has a
// stack of open scopes, and every resource of ours reports its allocations and frees to it. With no
// scope open on the thread the cost is one thread-local load and a not-taken branch.
#pragma once

#include <cstddef>

#include "allocator/last_thread_cache.h"

namespace std::pmr {
class memory_resource;
}

namespace allocbench::detail {

// One open scope on this thread's stack. `target` is the resource the scope watches.
class scope_frame {
 public:
  virtual void on_allocate(std::size_t bytes) noexcept = 0;
  virtual void on_deallocate(std::size_t bytes) noexcept = 0;

  const std::pmr::memory_resource* target = nullptr;
  scope_frame* parent = nullptr;

 protected:
  ~scope_frame() = default;
};

inline constinit thread_local scope_frame* tls_scope_top = nullptr;

// Keeps the scalable fast path's key in step with the scope stack: that path tests only
// tls_last_thread_cache.fast_id, which must not match any heap while a scope is open.
inline void refresh_fast_id() noexcept {
  store_fast_id(tls_scope_top == nullptr ? tls_last_thread_cache.heap_id : 0);
}

// Every change of the scope stack goes through here.
inline void set_scope_top(scope_frame* top) noexcept {
  tls_scope_top = top;
  refresh_fast_id();
}

void notify_scopes_allocate(const std::pmr::memory_resource* r, std::size_t bytes) noexcept;
void notify_scopes_deallocate(const std::pmr::memory_resource* r, std::size_t bytes) noexcept;

// Called by every resource after a successful allocate / before a deallocate.
inline void scope_note_allocate(const std::pmr::memory_resource* r, std::size_t bytes) noexcept {
  if (tls_scope_top != nullptr) [[unlikely]] notify_scopes_allocate(r, bytes);
}
inline void scope_note_deallocate(const std::pmr::memory_resource* r, std::size_t bytes) noexcept {
  if (tls_scope_top != nullptr) [[unlikely]] notify_scopes_deallocate(r, bytes);
}

}  // namespace allocbench::detail
