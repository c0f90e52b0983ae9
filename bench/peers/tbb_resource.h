// TBB's scalable allocator through scalable_malloc / scalable_aligned_malloc, without the malloc
// proxy, so it coexists with glibc and our resources in one process.
#pragma once

#include <string>

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

class tbb_resource final : public peer_resource {
 public:
  std::size_t usable_size(void* p) const noexcept override;
  static std::string version();

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
};

}  // namespace allocbench::bench
