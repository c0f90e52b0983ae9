// Whether pages are resident (mincore), for tests of memory given back to the kernel.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace allocbench::testing {

// Whether the page holding p is resident; false also once it is unmapped (mincore fails then).
inline bool page_resident(const void* p) {
  unsigned char v = 0;
  void* page = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t(4095));
  return ::mincore(page, 4096, &v) == 0 && (v & 1) != 0;
}

// How many pages of [p, p + bytes) are resident now (p page-aligned, bytes a multiple of 4096). The
// range must be mapped (a released span keeps its addresses): the test fails if it is not.
inline std::size_t resident_page_count(void* p, std::size_t bytes) {
  std::vector<unsigned char> flags(bytes / 4096);
  if (::mincore(p, bytes, flags.data()) != 0) {
    ADD_FAILURE() << "mincore failed: [" << p << ", +" << bytes << ") is not mapped";
    return 0;
  }
  std::size_t n = 0;
  for (unsigned char f : flags) n += f & 1;
  return n;
}

// The same over spans of `bytes` each.
inline std::size_t resident_page_count(const std::vector<void*>& spans, std::size_t bytes) {
  std::size_t n = 0;
  for (void* p : spans) n += resident_page_count(p, bytes);
  return n;
}

}  // namespace allocbench::testing
