// Backend "tcmalloc": tcmalloc alone, since linking it replaces malloc for the whole process.
#include "bench/allocator_registry.h"
#include "bench/peers/tcmalloc_resource.h"

namespace allocbench::bench {

backend_description this_backend() { return {"tcmalloc", tcmalloc_resource::version()}; }

std::vector<allocator_entry> backend_allocators(const std::vector<std::string>&) {
  return {{"tcmalloc", "peer", false, [] { return std::make_unique<tcmalloc_resource>(); }}};
}

}  // namespace allocbench::bench
