// The preset layouts compiled into the library: configs/allocators/*.json as string literals, written
// at build time by the //pmr:embedded_presets genrule (pmr/BUILD.bazel). Use pmr/presets.h instead.
#pragma once

#include <cstddef>

namespace allocbench::detail {

struct embedded_preset {
  const char* name;  // the file name without ".json"
  const char* json;  // the file's text
};

// Sorted by name. kEmbeddedPresetCount entries.
extern const embedded_preset kEmbeddedPresets[];
extern const std::size_t kEmbeddedPresetCount;

}  // namespace allocbench::detail
