// Backend "mimalloc": mimalloc alone, since linking it replaces malloc for the whole process.
#include "bench/allocator_registry.h"
#include "bench/peers/mimalloc_resource.h"

namespace allocbench::bench {

backend_description this_backend() { return {"mimalloc", mimalloc_resource::version()}; }

std::vector<allocator_entry> backend_allocators(const std::vector<std::string>&) {
  return {{"mimalloc", "peer", false, [] { return std::make_unique<mimalloc_resource>(); }}};
}

}  // namespace allocbench::bench
