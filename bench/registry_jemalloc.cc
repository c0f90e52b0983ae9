// Backend "jemalloc": jemalloc alone, since linking it replaces malloc for the whole process.
#include "bench/allocator_registry.h"
#include "bench/peers/jemalloc_resource.h"

namespace allocbench::bench {

backend_description this_backend() { return {"jemalloc", jemalloc_resource::version()}; }

std::vector<allocator_entry> backend_allocators(const std::vector<std::string>&) {
  return {{"jemalloc", "peer", false, [] { return std::make_unique<jemalloc_resource>(); }}};
}

}  // namespace allocbench::bench
