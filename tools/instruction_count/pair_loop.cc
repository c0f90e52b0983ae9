#include "tools/instruction_count/pair_loop.h"

namespace allocbench::instruction_count {

namespace {

// One pair: both calls through the base class's non-virtual allocate/deallocate, so the count has the
// argument set-up, both vtable loads and both indirect calls in it.
inline void one_pair(std::pmr::memory_resource* resource) {
  void* p = resource->allocate(64, 16);
  resource->deallocate(p, 64, 16);
}

}  // namespace

__attribute__((noinline)) void run_pairs(std::pmr::memory_resource* r, long n) {
  // The volatile read hides the dynamic type even if a future build does whole-program optimisation.
  std::pmr::memory_resource* volatile hidden = r;
  std::pmr::memory_resource* resource = hidden;
  // Eight pairs per trip: the loop's own increment, compare and branch are not part of a pair, and
  // this way they add 3/8 of an instruction to each instead of 3.
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    one_pair(resource);
    one_pair(resource);
    one_pair(resource);
    one_pair(resource);
    one_pair(resource);
    one_pair(resource);
    one_pair(resource);
    one_pair(resource);
  }
  for (; i < n; ++i) one_pair(resource);
}

}  // namespace allocbench::instruction_count
