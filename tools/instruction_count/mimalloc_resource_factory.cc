// mimalloc through bench/peers' pmr wrapper (its aligned and sized entry points). Linking mimalloc
// replaces malloc for the process, hence a binary of its own.
#include "bench/peers/mimalloc_resource.h"
#include "tools/instruction_count/resource_factory.h"

namespace allocbench::instruction_count {

owned_resource make_resource(const std::string& name) {
  if (name != "mimalloc") return {};
  auto r = std::make_shared<allocbench::bench::mimalloc_resource>();
  return {r, r.get()};
}

}  // namespace allocbench::instruction_count
