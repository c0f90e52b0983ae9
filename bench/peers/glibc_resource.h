// glibc's malloc as a memory resource: malloc/free, and aligned_alloc beyond malloc's own alignment.
#pragma once

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

class glibc_resource final : public peer_resource {
 public:
  std::size_t usable_size(void* p) const noexcept override;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
};

}  // namespace allocbench::bench
