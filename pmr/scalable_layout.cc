// PLACEHOLDER until scalable_resource lands: the helper writing scalable_resource replaces this file
// with the real builder. Until then a layout that names "scalable" is a clear config_error.
#include "pmr/layout_builders.h"

namespace allocbench::detail {

std::unique_ptr<instrumented_resource> build_scalable_resource(const json_fields& node,
                                                               std::pmr::memory_resource* /*upstream*/) {
  throw config_error(node.file(), node.field_path("type"),
                     "resource type 'scalable' is not available in this build");
}

}  // namespace allocbench::detail
