#include "pmr/debug_pointer_guard.h"

namespace allocbench::detail {

void debug_pointer_guard::on_allocate(const void* p) {
  std::lock_guard lock(mu_);
  live_.insert(p);  // strong guarantee: a throwing insert leaves the table as it was
}

bool debug_pointer_guard::on_deallocate(const void* p) noexcept {
  std::lock_guard lock(mu_);
  return live_.erase(p) == 1;
}

std::size_t debug_pointer_guard::live() const {
  std::lock_guard lock(mu_);
  return live_.size();
}

void debug_pointer_guard::clear() noexcept {
  std::lock_guard lock(mu_);
  live_.clear();
}

}  // namespace allocbench::detail
