#include "tools/instruction_count/pair_loop.h"

namespace allocbench::instruction_count {

__attribute__((noinline)) void run_pairs(std::pmr::memory_resource* r, long n) {
  // The volatile read hides the dynamic type even if a future build does whole-program optimisation.
  std::pmr::memory_resource* volatile hidden = r;
  std::pmr::memory_resource* resource = hidden;
  for (long i = 0; i < n; ++i) {
    void* p = resource->allocate(64, 16);
    resource->deallocate(p, 64, 16);
  }
}

}  // namespace allocbench::instruction_count
