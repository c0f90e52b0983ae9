// The resources that live on glibc's malloc: our presets, new_delete_resource and the std pools.
#include "pmr/presets.h"
#include "tools/instruction_count/resource_factory.h"

namespace allocbench::instruction_count {

owned_resource make_resource(const std::string& name) {
  if (name == "scalable" || name == "scalable_checked" || name == "scalable_guarded" || name == "seed_baseline" ||
      name == "seed_sharded") {
    std::shared_ptr<std::pmr::memory_resource> r = allocbench::make_preset(name);
    return {r, r.get()};
  }
  // glibc's malloc through libstdc++'s operator new (aligned overload: alignment is passed as 16).
  if (name == "new_delete_resource") return {nullptr, std::pmr::new_delete_resource()};
  if (name == "synchronized_pool_resource") {
    auto r = std::make_shared<std::pmr::synchronized_pool_resource>();
    return {r, r.get()};
  }
  if (name == "unsynchronized_pool_resource") {
    auto r = std::make_shared<std::pmr::unsynchronized_pool_resource>();
    return {r, r.get()};
  }
  return {};
}

}  // namespace allocbench::instruction_count
