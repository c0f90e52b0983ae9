// Makes a resource the process's default (std::pmr::set_default_resource) for one scope and restores
// the previous default at its end, so that a test can see what reaches "the default upstream".
#pragma once

#include <memory_resource>

namespace allocbench::testing {

class default_resource_guard {
 public:
  explicit default_resource_guard(std::pmr::memory_resource* r) : previous_(std::pmr::set_default_resource(r)) {}
  ~default_resource_guard() { std::pmr::set_default_resource(previous_); }
  default_resource_guard(const default_resource_guard&) = delete;
  default_resource_guard& operator=(const default_resource_guard&) = delete;

 private:
  std::pmr::memory_resource* previous_;
};

}  // namespace allocbench::testing
