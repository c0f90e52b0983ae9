// gperftools' tcmalloc (tcmalloc_minimal) through its tc_* entry points: tc_malloc / tc_memalign, and
// the sized tc_free_sized where the size names the size class (not for memaligned blocks).
// Linking it replaces malloc for the whole process: only //bench:backend_tcmalloc links it.
#pragma once

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

class tcmalloc_resource final : public peer_resource {
 public:
  std::size_t usable_size(void* p) const noexcept override;
  static const char* version();

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
};

}  // namespace allocbench::bench
