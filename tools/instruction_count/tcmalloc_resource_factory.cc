// tcmalloc through bench/peers' pmr wrapper (its aligned and sized entry points). Linking tcmalloc
// replaces malloc for the process, hence a binary of its own.
#include "bench/peers/tcmalloc_resource.h"
#include "tools/instruction_count/resource_factory.h"

namespace allocbench::instruction_count {

owned_resource make_resource(const std::string& name) {
  if (name != "tcmalloc") return {};
  auto r = std::make_shared<allocbench::bench::tcmalloc_resource>();
  return {r, r.get()};
}

}  // namespace allocbench::instruction_count
