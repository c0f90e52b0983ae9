// allocbench::fuzz::make_fuzzed_resource: the resources the resource fuzzer drives, built through the
// layout loader (pmr/presets.h) as a user's file would build them. Two bytes of the input choose:
//   which % 8: 0 scalable, 1 fixed_slab, 2 segregated (global), 3 segregated (per_class),
//              4 segregated (per_class_arena), 5 best_fit, 6 routing over a best_fit fallback,
//              7 routing with "fallback": "upstream"
//   options:   small chunks, spans, regions and scalable's caches (refills, flushes, swings and
//              growth on most calls), thread caches,
//              central shards, direct thresholds; bit 7 turns checked mode on.
//   which / 8: scalable's checked_fill_bytes, % 4: the default (32), 0, 64, 4096;
//   which / 32: scalable's size classes, % 8: the default spacing, or one of the class sets below
//              (tiny max_small, classes that are not multiples of 16, a lone class, coarse spacing),
//              where requests take other paths (registry, large blocks) than the defaults'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>

#include <nlohmann/json.hpp>

#include "pmr/instrumented_resource.h"
#include "pmr/presets.h"

namespace allocbench::fuzz {

inline nlohmann::json fuzzed_node(std::uint8_t which, std::uint8_t options) {
  using nlohmann::json;
  // Unsigned values throughout: a signed JSON integer is issue 15's defect 6, not what is fuzzed here.
  auto u = [](std::size_t v) { return json(static_cast<std::uint64_t>(v)); };
  const bool small = options & 1;
  const bool checked = options & 0x80;
  json node;
  switch (which % 8) {
    case 0:
      node = {{"type", "scalable"},
              {"span_bytes", u(small ? 4096 : 65536)},
              {"max_batch", u(2 + (options >> 1) % 8)},
              {"central_shards", u((options >> 4) % 5)}};
      // Small caches too: lists at their bound, swings past it and the byte cap on most calls.
      if (small) {
        node.update({{"class_cache_batches", u(2)}, {"class_burst_batches", u(8)},
                     {"thread_cache_bytes", u(8192)}});
      }
      if (const std::size_t fill = (which / 8) % 4; fill != 0) {  // 0: the field left out (32)
        static constexpr std::size_t kFills[] = {0, 64, 4096};
        node["checked_fill_bytes"] = u(kFills[fill - 1]);
      }
      switch (which / 32) {
        case 1: node.update({{"small_step", u(8)}, {"small_step_limit", u(16)}, {"max_small", u(16)}}); break;
        case 2: node["classes"] = json::array({u(8), u(24), u(40), u(1000)}); break;
        case 3: node["classes"] = json::array({u(16), u(48), u(80), u(4096)}); break;
        case 4: node.update({{"max_small", u(64)}}); break;
        case 5: node["classes"] = json::array({u(24)}); break;
        case 6: node.update({{"small_step", u(8)}, {"small_step_limit", u(64)}, {"max_small", u(2048)}}); break;
        case 7: node.update({{"classes_per_doubling", u(1)}, {"max_small", u(65536)}}); break;
        default: break;
      }
      break;
    case 1:
      node = {{"type", "fixed_slab"},
              {"block_size", u(8 + 8 * ((options >> 1) % 64))},
              {"chunk_bytes", u(small ? 4096 : 65536)},
              {"thread_cache", u(options & 2 ? 8 : 0)}};
      break;
    case 2:
    case 3:
    case 4: {
      static constexpr const char* kModes[] = {"global", "per_class", "per_class_arena"};
      node = {{"type", "segregated"},
              {"classes", json::array({u(16), u(48), u(64), u(256), u(1000), u(4096)})},
              {"lock_mode", kModes[which % 8 - 2]},
              {"chunk_bytes", u(small ? 8192 : 65536)}};
      break;
    }
    case 5:
      node = {{"type", "best_fit"},
              {"region_bytes", u(small ? 4096 : 1 << 20)},
              {"direct_threshold", u(options & 2 ? 8192 : 256 * 1024)},
              {"release_empty_regions", bool(options & 4)}};
      break;
    default: {
      json routes = json::array(
          {{{"max_size", u(64)},
            {"label", "slab64"},
            {"resource", {{"type", "fixed_slab"}, {"block_size", u(64)}, {"thread_cache", u(options & 2 ? 16 : 0)}}}},
           {{"max_size", u(4096)},
            {"label", "classes"},
            {"resource", {{"type", "segregated"}, {"classes", json::array({u(256), u(1024), u(4096)})},
                          {"lock_mode", "per_class"}}}}});
      json fallback = which % 8 == 6 ? json{{"type", "best_fit"}, {"region_bytes", u(small ? 4096 : 1 << 20)}}
                                     : json("upstream");
      node = {{"type", "routing"}, {"routes", routes}, {"fallback", fallback}};
      break;
    }
  }
  node["checked"] = checked;
  return node;
}

inline std::unique_ptr<instrumented_resource> make_fuzzed_resource(std::uint8_t which, std::uint8_t options,
                                                                  std::pmr::memory_resource* upstream) {
  const nlohmann::json layout = {{"name", "fuzzed"}, {"resource", fuzzed_node(which, options)}};
  return build_resource(layout, "resource_fuzzer", upstream);
}

}  // namespace allocbench::fuzz
