// Forwards to another resource and counts the calls, for the containers a benchmark thread owns: their
// allocations happen inside library code, and the throughput counts allocator calls, not container
// operations. One per thread, so the counters are plain integers.
#pragma once

#include <cstdint>
#include <memory_resource>

#include "allocator/request.h"

namespace allocbench::bench {

class counting_resource final : public std::pmr::memory_resource {
 public:
  explicit counting_resource(std::pmr::memory_resource& target) : target_(&target) {}

  std::uint64_t allocations = 0;
  std::uint64_t deallocations = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    // A size near SIZE_MAX must not reach a target that wraps it (allocator/request.h).
    allocbench::detail::check_upstream_request(bytes, alignment);
    void* p = target_->allocate(bytes, alignment);
    ++allocations;
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    target_->deallocate(p, bytes, alignment);
    ++deallocations;
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::pmr::memory_resource* target_;
};

}  // namespace allocbench::bench
