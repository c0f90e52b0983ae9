// The allocators one backend process offers. Each backend binary links exactly one definition of
// backend_allocators() (registry_*.cc), because jemalloc, tcmalloc and mimalloc replace malloc for
// the whole process and so cannot share a process with each other or with glibc.
#pragma once

#include <functional>
#include <memory>
#include <memory_resource>
#include <string>
#include <vector>

namespace allocbench::bench {

struct allocator_entry {
  std::string name;
  std::string family;               // "ours" (an instrumented_resource: stats()) or "peer"
  bool single_thread_only = false;  // std::pmr::unsynchronized_pool_resource
  std::function<std::unique_ptr<std::pmr::memory_resource>()> make;  // a fresh instance per run
};

struct backend_description {
  std::string name;             // e.g. "ours_glibc_std"
  std::string library_version;  // from the peer's headers or runtime, "" when none
};

backend_description this_backend();

// Every allocator of this backend; `layouts` are extra layout files (--layout), named "layout:<stem>".
std::vector<allocator_entry> backend_allocators(const std::vector<std::string>& layouts);

}  // namespace allocbench::bench
