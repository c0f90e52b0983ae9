// The layout loader's internals: one builder per resource type, each turning one JSON node of an
// allocator layout (see pmr/presets.h for the schema) into a resource.
//
// Every builder:
// - reads its node through json_fields and calls reject_unknown, so that a misspelt option is an error;
// - throws config_error (file, field path, reason) for anything wrong, before it allocates, or with
//   everything it built so far destroyed (children are held in unique_ptrs while the parent is built);
// - builds the resource on `upstream`.
#pragma once

#include <memory>
#include <memory_resource>
#include <stdexcept>
#include <string>
#include <utility>

#include "pmr/config_error.h"
#include "pmr/instrumented_resource.h"
#include "pmr/json_fields.h"
#include "pmr/scalable_resource.h"

namespace allocbench::detail {

// How many routing nodes may nest inside each other (the outermost one is level 1). Each level is a
// frame of the builder's recursion and a resource with its own tables; real layouts use one or two.
inline constexpr std::size_t kMaxRoutingDepth = 32;

// Any node: reads "type" and hands the node to the builder of that type. `routing_depth`: how many
// routing nodes enclose this one.
std::unique_ptr<instrumented_resource> build_node(const json_fields& node,
                                                  std::pmr::memory_resource* upstream,
                                                  std::size_t routing_depth = 0);

std::unique_ptr<instrumented_resource> build_fixed_slab_resource(const json_fields& node,
                                                                 std::pmr::memory_resource* upstream);
std::unique_ptr<instrumented_resource> build_segregated_resource(const json_fields& node,
                                                                 std::pmr::memory_resource* upstream);
std::unique_ptr<instrumented_resource> build_best_fit_resource(const json_fields& node,
                                                               std::pmr::memory_resource* upstream);
// Throws config_error when `routing_depth` (the routing nodes enclosing this one) is already
// kMaxRoutingDepth.
std::unique_ptr<instrumented_resource> build_routing_resource(const json_fields& node,
                                                              std::pmr::memory_resource* upstream,
                                                              std::size_t routing_depth = 0);
// Defined beside scalable_resource (pmr/scalable_layout.cc). parse_scalable_options reads a
// "scalable" node's fields (range checks are the resource's); the malloc front end uses it too.
scalable_options parse_scalable_options(const json_fields& node);
std::unique_ptr<instrumented_resource> build_scalable_resource(const json_fields& node,
                                                               std::pmr::memory_resource* upstream);

// Runs `make` (which constructs the resource) and turns a std::invalid_argument thrown by the
// resource's constructor (an option it rejects) into a config_error naming the node, so that a layout
// file's user learns which node is wrong. A config_error passes through unchanged.
template <class Make>
std::unique_ptr<instrumented_resource> construct_for_node(const json_fields& node, Make&& make) {
  try {
    return std::forward<Make>(make)();
  } catch (const config_error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    node.fail(std::string("rejected by the resource: ") + e.what());
  }
}

}  // namespace allocbench::detail
