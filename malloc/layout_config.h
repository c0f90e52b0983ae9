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
detail::scalable_heap_config malloc_layout(const char* layout_file);

}  // namespace allocbench::malloc_detail
