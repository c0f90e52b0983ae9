// The hook through which allocation_scope (pmr/allocation_scope.h) sees allocations: each thread has a
// stack of open scopes, and every resource of ours reports its allocations and frees to it. With no
// scope open on the thread the cost is one thread-local load and a not-taken branch.
#pragma once

#include <cstddef>

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
