// mimalloc through mi_malloc_aligned / mi_free_size_aligned.
// Linking it replaces malloc for the whole process: only //bench:backend_mimalloc links it.
#pragma once

#include <string>

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

class mimalloc_resource final : public peer_resource {
 public:
  std::size_t usable_size(void* p) const noexcept override;
  static std::string version();

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
};

}  // namespace allocbench::bench
