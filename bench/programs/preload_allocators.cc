#include "bench/programs/preload_allocators.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace allocbench::bench::programs {
namespace {

constexpr const char* kLibDir = "/usr/lib/x86_64-linux-gnu/";

preload_allocator* find(std::vector<preload_allocator>& all, const std::string& name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const preload_allocator& a) { return a.name == name; });
  return it == all.end() ? nullptr : &*it;
}

std::string known_names(const std::vector<preload_allocator>& all) {
  std::string out;
  for (const preload_allocator& a : all) out += (out.empty() ? "" : ", ") + a.name;
  return out;
}

}  // namespace

std::vector<preload_allocator> default_allocators(const std::string& ours_library) {
  const std::string lib = kLibDir;
  return {
      {"glibc", "", ""},
      {"jemalloc", lib + "libjemalloc.so.2", ""},
      // tcmalloc_minimal: gperftools' allocator without its heap profiler, the usual drop-in form.
      {"tcmalloc", lib + "libtcmalloc_minimal.so.4", ""},
      {"mimalloc", lib + "libmimalloc.so.2", ""},
      {"tbb", lib + "libtbbmalloc_proxy.so.2", ""},
      {"ours", ours_library,
       ours_library.empty() ? "//malloc:libscalable_malloc.so is not built into this runner's runfiles "
                              "(pass --preload=ours=PATH to run it)"
                            : ""},
  };
}

std::vector<preload_allocator> choose_allocators(std::vector<preload_allocator> allocators,
                                                 const std::vector<std::string>& preload_flags,
                                                 const std::vector<std::string>& selected) {
  for (const std::string& flag : preload_flags) {
    const std::size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      throw std::invalid_argument("--preload must be NAME=PATH (e.g. --preload=ours=/path/libscalable_malloc.so), got '" +
                                  flag + "'");
    }
    const std::string name = flag.substr(0, eq);
    const std::string path = flag.substr(eq + 1);
    if (name == "glibc") throw std::invalid_argument("--preload: glibc is the reference and preloads nothing");
    if (preload_allocator* a = find(allocators, name)) {
      a->library = path;
      a->skipped.clear();
    } else {
      allocators.push_back({name, path, ""});
    }
  }
  if (!selected.empty()) {
    for (const std::string& s : selected) {
      if (find(allocators, s) == nullptr) {
        throw std::invalid_argument("unknown allocator '" + s + "' (known: " + known_names(allocators) + ")");
      }
    }
    std::erase_if(allocators, [&](const preload_allocator& a) {
      return a.name != "glibc" && std::find(selected.begin(), selected.end(), a.name) == selected.end();
    });
  }
  for (preload_allocator& a : allocators) {
    if (a.skipped.empty() && !a.library.empty() && !std::filesystem::exists(a.library)) {
      a.skipped = a.library + " not found";
    }
  }
  return allocators;
}

}  // namespace allocbench::bench::programs
