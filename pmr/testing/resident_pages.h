// Whether pages are resident (mincore), for tests of memory given back to the kernel.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace allocbench::testing {

// Whether the page holding p is resident; false also once it is unmapped (mincore fails then).
inline bool page_resident(const void* p) {
  unsigned char v = 0;
  void* page = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t(4095));
  return ::mincore(page, 4096, &v) == 0 && (v & 1) != 0;
}

}  // namespace allocbench::testing
