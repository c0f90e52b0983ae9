// The common face of the peer allocators: a std::pmr::memory_resource over a library's own aligned
// and sized entry points (not through operator new, which in libstdc++ 12 takes the aligned path on
// every call), plus the library's usable-size call for the overhead ratio.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace allocbench::bench {

class peer_resource : public std::pmr::memory_resource {
 public:
  // Bytes the library actually reserved for block p (its usable-size call).
  virtual std::size_t usable_size(void* p) const noexcept = 0;

 protected:
  // Every peer is a stateless front to a process-wide heap: any two instances are interchangeable.
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return typeid(*this) == typeid(other);
  }
  // The malloc-family alignment below which the plain entry points suffice.
  static constexpr std::size_t kNaturalAlignment = alignof(std::max_align_t);
};

}  // namespace allocbench::bench
