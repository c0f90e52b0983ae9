// The layout loader's leaf builders: fixed_slab, segregated and best_fit nodes. Schema: pmr/presets.h.
#include <string>

#include "pmr/best_fit_resource.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/layout_builders.h"
#include "pmr/segregated_resource.h"

namespace allocbench::detail {
namespace {

// A size field that must be positive (0 would make the resource useless, and is usually a typo).
std::size_t positive_size_or(const json_fields& node, std::string_view key, std::size_t fallback) {
  const std::size_t value = node.size_or(key, fallback);
  if (value == 0) node.fail(key, "must be a positive integer, got 0");
  return value;
}

}  // namespace

std::unique_ptr<instrumented_resource> build_fixed_slab_resource(const json_fields& node,
                                                                 std::pmr::memory_resource* upstream) {
  node.reject_unknown({"type", "block_size", "chunk_bytes", "thread_cache", "checked"});
  fixed_slab_options o;
  o.block_size = node.size("block_size");
  if (o.block_size == 0) node.fail("block_size", "must be a positive integer, got 0");
  o.chunk_bytes = positive_size_or(node, "chunk_bytes", o.chunk_bytes);
  o.thread_cache_entries = node.size_or("thread_cache", o.thread_cache_entries);
  o.checked = node.boolean_or("checked", o.checked);
  return construct_for_node(node, [&] { return std::make_unique<fixed_slab_resource>(o, upstream); });
}

std::unique_ptr<instrumented_resource> build_segregated_resource(const json_fields& node,
                                                                 std::pmr::memory_resource* upstream) {
  node.reject_unknown({"type", "classes", "lock_mode", "chunk_bytes", "checked"});
  segregated_options o;
  if (node.has("classes")) {
    o.classes = node.size_list("classes", 1);
    for (std::size_t i = 0; i < o.classes.size(); ++i) {
      const std::string where = node.field_path("classes") + "[" + std::to_string(i) + "]";
      if (o.classes[i] == 0) throw config_error(node.file(), where, "must be a positive integer, got 0");
      if (i > 0 && o.classes[i] <= o.classes[i - 1]) {
        throw config_error(node.file(), where,
                           "classes must be strictly ascending, but " + std::to_string(o.classes[i]) +
                               " follows " + std::to_string(o.classes[i - 1]));
      }
    }
  }
  if (node.has("lock_mode")) {
    const std::string name = node.string("lock_mode");
    const std::optional<lock_mode> mode = parse_lock_mode(name);
    if (!mode) {
      node.fail("lock_mode",
                "unknown lock_mode '" + name + "' (known: global, per_class, per_class_arena)");
    }
    o.mode = *mode;
  }
  o.chunk_bytes = positive_size_or(node, "chunk_bytes", o.chunk_bytes);
  o.checked = node.boolean_or("checked", o.checked);
  return construct_for_node(node, [&] { return std::make_unique<segregated_resource>(o, upstream); });
}

std::unique_ptr<instrumented_resource> build_best_fit_resource(const json_fields& node,
                                                               std::pmr::memory_resource* upstream) {
  node.reject_unknown({"type", "region_bytes", "direct_threshold", "release_empty_regions", "checked"});
  best_fit_options o;
  o.region_bytes = positive_size_or(node, "region_bytes", o.region_bytes);
  o.direct_threshold = node.size_or("direct_threshold", o.direct_threshold);
  o.release_empty_regions = node.boolean_or("release_empty_regions", o.release_empty_regions);
  o.checked = node.boolean_or("checked", o.checked);
  return construct_for_node(node, [&] { return std::make_unique<best_fit_resource>(o, upstream); });
}

}  // namespace allocbench::detail
