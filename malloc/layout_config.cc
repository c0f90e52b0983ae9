#include "malloc/layout_config.h"

#include <sched.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "pmr/embedded_presets.h"
#include "pmr/json_fields.h"
#include "pmr/layout_builders.h"
#include "pmr/scalable_resource.h"

namespace allocbench::malloc_detail {
namespace {

constexpr const char* kDefaultPreset = "scalable";

nlohmann::json embedded_default() {
  for (std::size_t i = 0; i < detail::kEmbeddedPresetCount; ++i) {
    if (std::strcmp(detail::kEmbeddedPresets[i].name, kDefaultPreset) == 0) {
      return nlohmann::json::parse(detail::kEmbeddedPresets[i].json);
    }
  }
  throw std::logic_error("scalable_malloc: the scalable preset is not embedded");
}

}  // namespace

detail::scalable_heap_config malloc_layout(const char* layout_file) {
  const bool from_file = layout_file != nullptr && *layout_file != '\0';
  const std::string source = from_file ? std::string(layout_file) : std::string("preset ") + kDefaultPreset;
  const nlohmann::json doc = from_file ? read_json_file(layout_file) : embedded_default();
  check_json_depth(doc, source);
  const json_fields root(doc, source);
  root.reject_unknown({"name", "description", "resource"});
  if (root.string("name").empty()) root.fail("name", "must not be empty");
  (void)root.string_or("description", "");
  const json_fields node = root.object("resource");
  const std::string type = node.string("type");
  if (type != "scalable") {
    node.fail("type", "the malloc front end runs only \"scalable\" layouts, got \"" + type + "\"");
  }
  scalable_options o = detail::parse_scalable_options(node);
  // free() has no size: checked mode and guarded sampling need the requested one.
  if (node.has("checked") && o.checked) node.fail("checked", "the malloc front end has no checked mode");
  if (o.guarded_sample_rate != 0) node.fail("guarded_sample_rate", "must be 0 for the malloc front end");
  o.checked = false;  // whatever the build's default (ALLOCBENCH_CHECKED)
  // Range checks are the engine's (scalable_heap's constructor: std::invalid_argument).
  detail::scalable_heap_config config = detail::heap_config_for(o);
  if (config.central_shards == 0) config.central_shards = malloc_default_shards();
  return config;
}

std::size_t malloc_default_shards() noexcept {
  // sched_getaffinity into a set on the stack: a system call, no malloc (this runs while the heap is
  // being built). A process limited to fewer CPUs than the machine has gets fewer shards.
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  std::size_t n = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? std::size_t(CPU_COUNT(&cpus)) : 0;
  constexpr std::size_t kMin = 2, kMax = 16;
  return n < kMin ? kMin : n > kMax ? kMax : n;
}

}  // namespace allocbench::malloc_detail
