// The layout loader's tree walk: the dispatch on "type" and the routing node, which builds its
// children recursively. Schema: pmr/presets.h.
#include <string>
#include <utility>
#include <vector>

#include "allocator/request.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/layout_builders.h"
#include "pmr/routing_resource.h"
#include "pmr/segregated_resource.h"

namespace allocbench::detail {
namespace {

// The largest alignment `child` serves for every request size up to `max_size`, or 0 when it cannot
// serve every such size at all.
std::size_t honoured_alignment(const instrumented_resource& child, std::size_t max_size) {
  if (auto* slab = dynamic_cast<const fixed_slab_resource*>(&child)) {
    return max_size <= slab->block_size() ? slab->block_alignment() : 0;
  }
  if (auto* classes = dynamic_cast<const segregated_resource*>(&child)) {
    // The largest class serves any size up to it, at its own block alignment; no class serves more.
    if (max_size > classes->max_size()) return 0;
    return classes->class_alignment(classes->classes().size() - 1);
  }
  return kMaxHonouredAlignment;
}

// Route i of a routing node; `previous_max_size` is the max_size of route i - 1 (0 for the first).
route build_route(const json_fields& routing, std::size_t i, std::size_t previous_max_size,
                  std::pmr::memory_resource* upstream, std::size_t routing_depth) {
  const json_fields r = routing.element("routes", i);
  r.reject_unknown({"max_size", "max_alignment", "label", "resource"});
  const std::size_t max_size = r.size("max_size");
  if (max_size < previous_max_size) {
    r.fail("max_size", "routes must be sorted by max_size ascending, but " + std::to_string(max_size) +
                           " follows " + std::to_string(previous_max_size));
  }
  std::string label = r.string_or("label", "");
  const bool explicit_alignment = r.has("max_alignment");
  std::size_t max_alignment = explicit_alignment ? r.size("max_alignment") : 0;
  if (explicit_alignment && !is_power_of_two(max_alignment)) {
    r.fail("max_alignment", "must be a power of two, got " + std::to_string(max_alignment));
  }
  std::unique_ptr<instrumented_resource> child = build_node(r.object("resource"), upstream, routing_depth);

  const std::size_t honoured = honoured_alignment(*child, max_size);
  if (honoured == 0) {
    r.fail("max_size", "the route's " + std::string(child->kind()) + " resource cannot serve requests of " +
                           std::to_string(max_size) + " bytes");
  }
  if (!explicit_alignment) {
    max_alignment = honoured;
  } else if (max_alignment > honoured) {
    r.fail("max_alignment", "the route's " + std::string(child->kind()) +
                                " resource honours alignments up to " + std::to_string(honoured) +
                                " for every size up to max_size, got " + std::to_string(max_alignment));
  }
  if (label.empty()) label = std::string(child->kind());
  return route{max_size, max_alignment, std::move(child), std::move(label)};
}

}  // namespace

std::unique_ptr<instrumented_resource> build_node(const json_fields& node,
                                                  std::pmr::memory_resource* upstream,
                                                  std::size_t routing_depth) {
  const std::string type = node.string("type");
  if (type == "fixed_slab") return build_fixed_slab_resource(node, upstream);
  if (type == "segregated") return build_segregated_resource(node, upstream);
  if (type == "best_fit") return build_best_fit_resource(node, upstream);
  if (type == "routing") return build_routing_resource(node, upstream, routing_depth);
  if (type == "scalable") return build_scalable_resource(node, upstream);
  node.fail("type", "unknown resource type '" + type +
                        "' (known types: fixed_slab, segregated, best_fit, routing, scalable)");
}

std::unique_ptr<instrumented_resource> build_routing_resource(const json_fields& node,
                                                              std::pmr::memory_resource* upstream,
                                                              std::size_t routing_depth) {
  // Checked before any child is built, so a hostile layout costs at most kMaxRoutingDepth levels.
  if (routing_depth >= kMaxRoutingDepth) {
    node.fail("type", "routing nodes nest deeper than " + std::to_string(kMaxRoutingDepth) +
                          " levels (the limit for a layout)");
  }
  const std::size_t child_depth = routing_depth + 1;
  node.reject_unknown({"type", "routes", "fallback", "checked", "debug_pointer_guard"});
  const bool checked = node.boolean_or("checked", checked_by_default());
  const bool guard = node.boolean_or("debug_pointer_guard", false);
  const nlohmann::json& routes_json = node.array("routes");
  if (routes_json.empty()) node.fail("routes", "must have at least one route");

  // In file order; if one throws, the children built so far are destroyed with `routes`.
  std::vector<route> routes;
  for (std::size_t i = 0; i < routes_json.size(); ++i) {
    routes.push_back(
        build_route(node, i, routes.empty() ? 0 : routes.back().max_size, upstream, child_depth));
  }

  std::unique_ptr<instrumented_resource> fallback;
  if (!node.has("fallback")) node.fail("fallback", "required field is missing");
  const nlohmann::json& fb = node.node().at("fallback");
  if (fb.is_string()) {
    if (fb.get<std::string>() != "upstream") {
      node.fail("fallback", "must be a resource node or \"upstream\", got " + json_fields::describe(fb));
    }
  } else if (fb.is_object()) {
    fallback = build_node(node.object("fallback"), upstream, child_depth);
  } else {
    node.fail("fallback", "must be a resource node or \"upstream\", got " + json_fields::describe(fb));
  }

  return construct_for_node(node, [&] {
    return std::make_unique<routing_resource>(std::move(routes), std::move(fallback), upstream, checked, guard);
  });
}

}  // namespace allocbench::detail
