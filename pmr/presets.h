// Allocator layouts: resources built from a JSON description, either one of the presets compiled into
// the library (configs/allocators/*.json, embedded at build time, so make_preset works from any working
// directory) or any file (load_resource).
//
//   auto r = allocbench::make_preset("seed_baseline");
//   auto mine = allocbench::load_resource("my_layout.json");
//
// Layout schema (every object rejects fields it does not know, so a typo is an error):
//
//   { "name": "seed_baseline",            required string
//     "description": "...",               optional string
//     "resource": <node> }                required
//
//   <node> :=
//     { "type": "fixed_slab",
//       "block_size": 32,                 required, bytes per block
//       "chunk_bytes": 65536,             optional (65536), bytes per upstream refill
//       "thread_cache": 64,               optional (0 = none), blocks each thread may cache
//       "checked": false }                optional (build default), see allocator/invalid_free.h
//   | { "type": "segregated",
//       "classes": [512, 1024, 2048, 4096],  optional (32, 64, ..., 4096), strictly ascending
//       "lock_mode": "global",            optional ("per_class_arena"): global | per_class | per_class_arena
//       "chunk_bytes": 65536,             optional (65536), bytes per upstream refill per class
//       "checked": false }
//   | { "type": "best_fit",
//       "region_bytes": 1048576,          optional (1 MiB), bytes per upstream region
//       "direct_threshold": 262144,       optional (256 KiB), larger requests go straight to upstream
//       "release_empty_regions": false,   optional (false), give fully free regions back
//       "checked": false }
//   | { "type": "routing",
//       "routes": [                       required, sorted by max_size ascending (ties allowed)
//         { "max_size": 32,               required, largest request (bytes) the route takes
//           "max_alignment": 32,          optional, a power of two; default: what the child honours
//                                         for every size up to max_size (a fixed_slab: its
//                                         block_alignment(); a segregated: its largest class's block
//                                         alignment; anything else: 4096)
//           "label": "slab32",            optional, its name in stats().classes (default: the type)
//           "resource": <node> }, ...],   required
//       "fallback": <node> | "upstream",  required: where requests no route takes go
//       "checked": false,                 optional, checks the blocks sent straight to upstream
//       "debug_pointer_guard": false }    optional (false): the origin report's debug build, every
//                                         allocate and free through one locked table of live blocks
//                                         (pmr/debug_pointer_guard.h)
//   | { "type": "scalable", ... }         see pmr/scalable_resource.h
//       "classes": [16, 32, 48, 64],      optional: explicit size classes (ascending multiples of 8,
//                                         <= 65536, <= 128 of them); excludes the 4 spacing fields
//       "small_step": 16,                 optional (16), classes this far apart (multiple of 8) ...
//       "small_step_limit": 128,          optional (128), ... up to here, then
//       "classes_per_doubling": 4,        optional (4), this many classes per power of two ...
//       "max_small": 32768,               optional (32768), ... up to this; larger goes to upstream
//       "span_bytes": 65536,              optional (65536), power of two, bytes per span from upstream
//       "batch_bytes": 8192,              optional (8192), bytes moved per thread-cache refill/flush
//       "max_batch": 32,                  optional (32), most blocks per batch (2..1024)
//       "class_cache_batches": 8,         optional (8), most batches a thread caches per class
//       "class_burst_batches": 32,        optional (32), 0..1024: ... or up to this many, a batch more
//                                         each time its own use of the class runs the list from
//                                         empty to full (requests that end); <= the above: never
//       "thread_cache_bytes": 524288,     optional (512 KiB), most bytes a thread caches in total,
//                                         except for that growth: up to its share of the budget
//                                         (thread_cache_budget / threads with a cache)
//       "thread_cache_budget": 8388608,   optional (8 MiB), most bytes all threads' caches hold together
//       "central_shards": 0,              optional (0 = 16), 0..64: shards of each
//                                         class's central list, each with its own spans and lock
//       "guarded_sample_rate": 0,         optional (0 = off): about one small allocation in N gets
//                                         guard pages (overflow / use after free fault and are
//                                         reported); preset scalable_guarded uses 1000
//       "checked": false,                 optional (build default)
//       "checked_fill_bytes": 32 }        optional (32), 0..4096: bytes at a freed block's start that
//                                         checked mode fills and checks (a write after free there is caught)
//
// A route whose child could not serve every request it admits (max_size above a slab's block size or
// a segregated resource's largest class, max_alignment above what the child honours) is an error.
//
// Errors: a bad file throws config_error (pmr/config_error.h) naming the file, the field's JSON path
// (e.g. "resource.routes[1].resource.lock_mode") and the reason; a missing file or invalid JSON names
// the file with an empty field. Nothing is left allocated when loading fails.
#pragma once

#include <filesystem>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmr/instrumented_resource.h"

namespace allocbench {

// What a layout is built on when the caller names no upstream: operator new and delete (it forwards
// to std::pmr::new_delete_resource()) for every node, except that a "scalable" node built on it
// takes its spans from its own os_span_source, as scalable_resource(options) does. Passing any other
// upstream, new_delete_resource() included, builds every node on exactly that one.
std::pmr::memory_resource* default_upstream() noexcept;

// Builds the preset of that name (a file name in configs/allocators/ without ".json"). An unknown
// name throws std::invalid_argument listing the known names.
std::unique_ptr<instrumented_resource> make_preset(
    std::string_view name, std::pmr::memory_resource* upstream = default_upstream());

// Reads and builds a layout file; see above for errors.
std::unique_ptr<instrumented_resource> load_resource(
    const std::filesystem::path& json, std::pmr::memory_resource* upstream = default_upstream());

// The common core: builds a parsed layout. `source_name` is what errors name as the file.
std::unique_ptr<instrumented_resource> build_resource(const nlohmann::json& layout,
                                                      std::string_view source_name,
                                                      std::pmr::memory_resource* upstream);

// The embedded presets' names, sorted.
std::vector<std::string> preset_names();

// The embedded JSON text of a preset (what make_preset builds), e.g. for a report; an unknown name
// throws std::invalid_argument as make_preset does.
std::string_view preset_text(std::string_view name);

}  // namespace allocbench
