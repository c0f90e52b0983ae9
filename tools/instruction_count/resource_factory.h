// Each measurement binary links one factory: the resources it can build by name. Peers that replace
// malloc (mimalloc, tcmalloc, jemalloc) get binaries of their own, so they never share a process with
// the resources built on glibc's malloc.
#pragma once

#include <memory>
#include <memory_resource>
#include <string>

namespace allocbench::instruction_count {

// Keeps whatever owns the resource alive; resource points at the resource to measure.
struct owned_resource {
  std::shared_ptr<void> owner;
  std::pmr::memory_resource* resource = nullptr;
};

// The resource called `name`, or an empty owned_resource when this binary does not know the name.
owned_resource make_resource(const std::string& name);

}  // namespace allocbench::instruction_count
