// The origin report's debug pointer guard, reproduced so that its cost can be measured apart from the
// global refill lock (routing option "debug_pointer_guard", off by default; see pmr/presets.h).
//
// The origin's default build (no -DNDEBUG) turned on MEMPOOL_POINTER_GUARD, which checked every pointer
// handed to its pool. What made it costly is reproduced here: every allocate records the block and
// every deallocate looks it up and forgets it, in one table behind one mutex shared by all threads of
// the pool, so every operation of every thread takes the same lock. A pointer that is not in the table
// (foreign, or freed twice) is reported as foreign_pointer through allocator/invalid_free.h and its
// free is ignored.
#pragma once

#include <mutex>
#include <unordered_set>

namespace allocbench::detail {

class debug_pointer_guard {
 public:
  // Records `p` as live. Throws std::bad_alloc (the table could not grow) with nothing recorded.
  void on_allocate(const void* p);
  // Forgets `p`; false when it was not live (nothing changes then).
  bool on_deallocate(const void* p) noexcept;
  std::size_t live() const;
  void clear() noexcept;

 private:
  mutable std::mutex mu_;
  std::unordered_set<const void*> live_;
};

}  // namespace allocbench::detail
