// The layout loader's builder for "scalable" nodes. Schema: pmr/presets.h and pmr/scalable_resource.h.
#include <string>

#include "pmr/layout_builders.h"
#include "pmr/presets.h"
#include "pmr/scalable_resource.h"

namespace allocbench::detail {

scalable_options parse_scalable_options(const json_fields& node) {
  node.reject_unknown({"type", "classes", "small_step", "small_step_limit", "classes_per_doubling",
                       "max_small", "span_bytes", "batch_bytes", "max_batch", "class_cache_batches",
                       "class_burst_batches", "thread_cache_bytes", "thread_cache_budget", "central_shards",
                       "guarded_sample_rate", "checked", "checked_fill_bytes"});
  scalable_options o;
  if (node.has("classes")) {
    // An explicit list replaces the spacing fields; naming both would leave one silently unused.
    for (const char* spacing : {"small_step", "small_step_limit", "classes_per_doubling", "max_small"}) {
      if (node.has(spacing)) node.fail(spacing, "cannot be combined with an explicit \"classes\" list");
    }
    o.classes = node.size_list("classes", 1);
    for (std::size_t i = 0; i < o.classes.size(); ++i) {
      const std::string where = node.field_path("classes") + "[" + std::to_string(i) + "]";
      if (o.classes[i] == 0 || o.classes[i] % 8 != 0) {
        throw config_error(node.file(), where,
                           "must be a positive multiple of 8, got " + std::to_string(o.classes[i]));
      }
      if (i > 0 && o.classes[i] <= o.classes[i - 1]) {
        throw config_error(node.file(), where,
                           "classes must be strictly ascending, but " + std::to_string(o.classes[i]) +
                               " follows " + std::to_string(o.classes[i - 1]));
      }
    }
  }
  o.small_step = node.size_or("small_step", o.small_step);
  o.small_step_limit = node.size_or("small_step_limit", o.small_step_limit);
  o.classes_per_doubling = node.size_or("classes_per_doubling", o.classes_per_doubling);
  o.max_small = node.size_or("max_small", o.max_small);
  o.span_bytes = node.size_or("span_bytes", o.span_bytes);
  o.batch_bytes = node.size_or("batch_bytes", o.batch_bytes);
  o.max_batch = node.size_or("max_batch", o.max_batch);
  o.class_cache_batches = node.size_or("class_cache_batches", o.class_cache_batches);
  o.class_burst_batches = node.size_or("class_burst_batches", o.class_burst_batches);
  o.thread_cache_bytes = node.size_or("thread_cache_bytes", o.thread_cache_bytes);
  o.thread_cache_budget = node.size_or("thread_cache_budget", o.thread_cache_budget);
  o.central_shards = node.size_or("central_shards", o.central_shards);
  o.guarded_sample_rate = node.size_or("guarded_sample_rate", o.guarded_sample_rate);
  o.checked = node.boolean_or("checked", o.checked);
  o.checked_fill_bytes = node.size_or("checked_fill_bytes", o.checked_fill_bytes);
  return o;
}

std::unique_ptr<instrumented_resource> build_scalable_resource(const json_fields& node,
                                                               std::pmr::memory_resource* upstream) {
  const scalable_options o = parse_scalable_options(node);
  // Range checks live in the resource; construct_for_node names this node when it rejects one.
  // No upstream named (default_upstream, pmr/presets.h): the resource's own span source.
  return construct_for_node(node, [&] {
    return upstream == default_upstream() ? std::make_unique<scalable_resource>(o)
                                          : std::make_unique<scalable_resource>(o, upstream);
  });
}

}  // namespace allocbench::detail
