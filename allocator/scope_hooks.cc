#include "allocator/scope_hooks.h"

namespace allocbench::detail {

// Every open scope that watches `r` counts the call, nested ones included: a step scope and the
// request scope around it both see the step's allocations.
void notify_scopes_allocate(const std::pmr::memory_resource* r, std::size_t bytes) noexcept {
  for (scope_frame* f = tls_scope_top; f != nullptr; f = f->parent) {
    if (f->target == r) f->on_allocate(bytes);
  }
}

void notify_scopes_deallocate(const std::pmr::memory_resource* r, std::size_t bytes) noexcept {
  for (scope_frame* f = tls_scope_top; f != nullptr; f = f->parent) {
    if (f->target == r) f->on_deallocate(bytes);
  }
}

}  // namespace allocbench::detail
