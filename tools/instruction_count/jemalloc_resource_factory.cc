// jemalloc through bench/peers' pmr wrapper (its aligned and sized entry points). Linking jemalloc
// replaces malloc for the process, hence a binary of its own.
#include "bench/peers/jemalloc_resource.h"
#include "tools/instruction_count/resource_factory.h"

namespace allocbench::instruction_count {

owned_resource make_resource(const std::string& name) {
  if (name != "jemalloc") return {};
  auto r = std::make_shared<allocbench::bench::jemalloc_resource>();
  return {r, r.get()};
}

}  // namespace allocbench::instruction_count
