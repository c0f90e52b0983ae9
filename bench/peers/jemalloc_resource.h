// jemalloc through its non-standard API: mallocx with MALLOCX_ALIGN, sized free with sdallocx.
// Linking jemalloc replaces malloc for the whole process: only //bench:backend_jemalloc links it.
#pragma once

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

class jemalloc_resource final : public peer_resource {
 public:
  std::size_t usable_size(void* p) const noexcept override;
  static const char* version();

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
};

}  // namespace allocbench::bench
