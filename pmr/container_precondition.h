// What allocbench's containers do when a noexcept member's precondition is broken (e.g. swap between
// containers whose allocators differ, undefined behaviour in the standard): print which container and
// which precondition, then abort, rather than corrupt two resources' memory.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace allocbench::detail {

[[noreturn]] inline void container_precondition_failed(const char* container, const char* what) noexcept {
  std::fprintf(stderr, "allocbench::%s: precondition violated: %s\n", container, what);
  std::abort();
}

}  // namespace allocbench::detail
