// Every resource of the library, each in a shape that uses its threads and its upstream, with the
// requests it can serve: the list that fault and thread-lifetime tests run over.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <memory_resource>
#include <ostream>
#include <string>
#include <vector>

#include "pmr/best_fit_resource.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/instrumented_resource.h"
#include "pmr/presets.h"
#include "pmr/scalable_resource.h"
#include "pmr/segregated_resource.h"

namespace allocbench::testing {

struct resource_case {
  std::string name;
  std::function<std::unique_ptr<instrumented_resource>(std::pmr::memory_resource*)> make;
  std::vector<std::size_t> sizes;  // request sizes it serves (alignment 16 or less)
};

inline void PrintTo(const resource_case& c, std::ostream* os) { *os << c.name; }

// Small spans and chunks, so that a short run makes many upstream calls.
inline std::vector<resource_case> all_resource_cases() {
  const std::vector<std::size_t> small = {8, 24, 48, 64};
  const std::vector<std::size_t> classes = {16, 64, 200, 256, 1000, 4096};
  const std::vector<std::size_t> mixed = {16, 100, 256, 1000, 4096, 20000, 70000, 300000};
  auto slab = [](std::size_t cache) {
    return [cache](std::pmr::memory_resource* up) {
      fixed_slab_options o;
      o.block_size = 64;
      o.chunk_bytes = 4096;
      o.thread_cache_entries = cache;
      return std::make_unique<fixed_slab_resource>(o, up);
    };
  };
  auto segregated = [](lock_mode mode) {
    return [mode](std::pmr::memory_resource* up) {
      segregated_options o;
      o.mode = mode;
      o.chunk_bytes = 16 * 1024;
      return std::make_unique<segregated_resource>(o, up);
    };
  };
  std::vector<resource_case> all = {
      {"scalable",
       [](std::pmr::memory_resource* up) {
         scalable_options o;
         o.span_bytes = 4096;
         o.central_shards = 2;
         return std::make_unique<scalable_resource>(o, up);
       },
       mixed},
      {"fixed_slab", slab(0), small},
      {"fixed_slab_thread_cache", slab(16), small},
      {"segregated_global", segregated(lock_mode::global), classes},
      {"segregated_per_class", segregated(lock_mode::per_class), classes},
      {"segregated_per_class_arena", segregated(lock_mode::per_class_arena), classes},
      {"best_fit",
       [](std::pmr::memory_resource* up) {
         best_fit_options o;
         o.region_bytes = 64 * 1024;
         o.direct_threshold = 32 * 1024;
         o.release_empty_regions = true;
         return std::make_unique<best_fit_resource>(o, up);
       },
       mixed},
  };
  // The presets: scalable as shipped, and the routing layouts over slabs, segregated and best_fit.
  for (const std::string& name : preset_names()) {
    all.push_back({"preset_" + name, [name](std::pmr::memory_resource* up) { return make_preset(name, up); },
                   mixed});
  }
  return all;
}

}  // namespace allocbench::testing
