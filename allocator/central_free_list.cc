#include "allocator/central_free_list.h"

namespace allocbench::detail {

void* central_free_list::refill_and_pop() {
  pool_.refill();
  return pool_.pop();
}

std::size_t central_free_list::pop_batch(free_list& to, std::size_t count) {
  counted_lock lock(mu_, *counters_);
  void* first = pool_.pop();
  if (first == nullptr) first = refill_and_pop();
  to.push(first);
  std::size_t moved = 1;
  for (; moved < count; ++moved) {
    void* p = pool_.pop();
    if (p == nullptr) break;
    to.push(p);
  }
  return moved;
}

void central_free_list::push_batch(free_list& from, std::size_t count) noexcept {
  counted_lock lock(mu_, *counters_);
  for (std::size_t i = 0; i < count; ++i) {
    void* p = from.pop();
    if (p == nullptr) break;
    pool_.push(p);
  }
}

void central_free_list::release() noexcept {
  counted_lock lock(mu_, *counters_);
  pool_.release();
}

std::size_t central_free_list::free_count() {
  counted_lock lock(mu_, *counters_);
  return pool_.free_count();
}

}  // namespace allocbench::detail
