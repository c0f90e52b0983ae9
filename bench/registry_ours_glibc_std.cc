// Backend "ours_glibc_std": every preset of ours (whatever preset_names() lists, so new presets
// appear by themselves), layouts given with --layout, glibc, the two std pools and TBB (which has its
// own entry points and does not replace malloc).
#include <filesystem>

#include "bench/allocator_registry.h"
#include "bench/peers/glibc_resource.h"
#include "bench/peers/tbb_resource.h"
#include "pmr/presets.h"

namespace allocbench::bench {

backend_description this_backend() { return {"ours_glibc_std", "tbb " + tbb_resource::version()}; }

std::vector<allocator_entry> backend_allocators(const std::vector<std::string>& layouts) {
  std::vector<allocator_entry> out;
  for (const std::string& name : preset_names()) {
    out.push_back({name, "ours", false, [name] { return std::unique_ptr<std::pmr::memory_resource>(make_preset(name)); }});
  }
  for (const std::string& path : layouts) {
    out.push_back({"layout:" + std::filesystem::path(path).stem().string(), "ours", false,
                   [path] { return std::unique_ptr<std::pmr::memory_resource>(load_resource(path)); }});
  }
  out.push_back({"glibc", "peer", false, [] { return std::make_unique<glibc_resource>(); }});
  out.push_back({"std_synchronized_pool", "peer", false,
                 [] { return std::make_unique<std::pmr::synchronized_pool_resource>(); }});
  out.push_back({"std_unsynchronized_pool", "peer", true,
                 [] { return std::make_unique<std::pmr::unsynchronized_pool_resource>(); }});
  out.push_back({"tbb", "peer", false, [] { return std::make_unique<tbb_resource>(); }});
  return out;
}

}  // namespace allocbench::bench
