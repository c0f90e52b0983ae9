// make_preset, load_resource and build_resource: the entry points of the layout loader. The node
// builders are in layout_loader.cc (dispatch, routing) and resource_layouts.cc (the leaf resources).
#include "pmr/presets.h"

#include <stdexcept>

#include "pmr/embedded_presets.h"
#include "pmr/json_fields.h"
#include "pmr/layout_builders.h"

namespace allocbench {
namespace {

const detail::embedded_preset* find_preset(std::string_view name) {
  for (std::size_t i = 0; i < detail::kEmbeddedPresetCount; ++i) {
    if (name == detail::kEmbeddedPresets[i].name) return &detail::kEmbeddedPresets[i];
  }
  std::string known;
  for (const std::string& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("allocbench: unknown allocator preset '" + std::string(name) +
                              "' (known presets: " + known + ")");
}

// A distinct object, so that a scalable node can tell "no upstream named" from a user's upstream;
// otherwise it is operator new and delete.
class forwarding_new_delete final : public std::pmr::memory_resource {
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other || std::pmr::new_delete_resource()->is_equal(other);
  }
};

}  // namespace

std::pmr::memory_resource* default_upstream() noexcept {
  // Never destroyed: resources built on it may outlive static destruction.
  static forwarding_new_delete* const instance = new forwarding_new_delete;
  return instance;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < detail::kEmbeddedPresetCount; ++i) {
    names.emplace_back(detail::kEmbeddedPresets[i].name);
  }
  return names;  // the genrule writes them sorted
}

std::string_view preset_text(std::string_view name) { return find_preset(name)->json; }

std::unique_ptr<instrumented_resource> make_preset(std::string_view name,
                                                   std::pmr::memory_resource* upstream) {
  const detail::embedded_preset* preset = find_preset(name);
  // Errors name the file the preset was compiled from.
  const std::string source = "configs/allocators/" + std::string(preset->name) + ".json";
  nlohmann::json layout;
  try {
    layout = nlohmann::json::parse(preset->json);
  } catch (const nlohmann::json::parse_error& e) {
    throw config_error(source, "", std::string("invalid JSON: ") + e.what());
  }
  return build_resource(layout, source, upstream);
}

std::unique_ptr<instrumented_resource> load_resource(const std::filesystem::path& json,
                                                     std::pmr::memory_resource* upstream) {
  return build_resource(read_json_file(json), json.string(), upstream);
}

std::unique_ptr<instrumented_resource> build_resource(const nlohmann::json& layout,
                                                      std::string_view source_name,
                                                      std::pmr::memory_resource* upstream) {
  if (upstream == nullptr) throw std::invalid_argument("allocbench: build_resource: upstream is null");
  // Before anything walks the layout recursively (a JSON built in code has not been through a file).
  check_json_depth(layout, std::string(source_name));
  const json_fields root(layout, std::string(source_name));
  root.reject_unknown({"name", "description", "resource"});
  if (root.string("name").empty()) root.fail("name", "must not be empty");
  (void)root.string_or("description", "");
  return detail::build_node(root.object("resource"), upstream);
}

}  // namespace allocbench
