// The layout the malloc front end runs: ALLOCBENCH_LAYOUT=file.json, or the embedded "scalable"
// preset (configs/allocators/scalable.json) when the variable is unset or empty.
//
// The file has the schema of any layout (pmr/presets.h); its "resource" must be a "scalable" node,
// without checked mode or guarded sampling (both need each block's requested size at free, which
// free() does not have). Anything else is a config_error naming the file, the field and the reason.
#pragma once

#include "allocator/scalable_heap.h"

namespace allocbench::malloc_detail {

// Throws config_error (pmr/config_error.h) for a missing, unreadable or invalid file. Options out of
// range are left to the engine, whose constructor throws std::invalid_argument naming the option.
// A layout that leaves central_shards to the engine (0) gets malloc_default_shards() of them.
detail::scalable_heap_config malloc_layout(const char* layout_file);

// Central-list shards for a whole process: one per CPU this process may run on, 2 .. 16. The engine's
// default (16, for one resource among many) costs a malloc dearly: threads take shards round robin,
// and each new thread starts on spans of a shard of its own, which the blocks it leaves keep partly
// used, so short-lived threads spread the heap over 16 shards' spans of every class.
std::size_t malloc_default_shards() noexcept;

}  // namespace allocbench::malloc_detail
