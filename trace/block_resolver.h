// Turns a trace's addresses into block identities: the threads' streams are merged by timestamp (each
// stream keeps its own order; where one reading covers several events, by what their addresses
// allow: block_resolver.cc) and every allocation gets a block id, which the free, realloc or the end
// of the trace that releases it refers to. The result is what a replay runs and what trace_stats
// summarises.
#pragma once

#include <cstdint>
#include <vector>

#include "trace/trace_file.h"

namespace allocbench::trace {

struct resolved_block {
  std::uint64_t size = 0;
  std::uint32_t alignment = 16;  // as asked; malloc and operator new without one: 16
  std::uint32_t thread = 0;      // index into resolved_trace::threads of the allocating thread
  std::uint32_t free_thread = 0;  // who freed (or realloc'd) it; == thread when live at the end
  bool freed = false;             // false: live when the recording ended
  std::uint64_t alloc_ticks = 0, free_ticks = 0;
};

enum class resolved_kind : std::uint8_t { allocate, free, realloc };

struct resolved_op {
  resolved_kind kind = resolved_kind::allocate;
  bool remote = false;  // the block (realloc: the old one) was allocated by another thread
  std::uint32_t block = 0;      // allocate: the new block; free and realloc: the block released
  std::uint32_t new_block = 0;  // realloc: the block it becomes
};

struct resolved_thread {
  std::uint32_t recorded_thread = 0;  // the recorder's thread index
  std::vector<resolved_op> ops;       // ends with frees of what this thread left live, if anything
};

struct resolved_trace {
  std::vector<resolved_block> blocks;
  std::vector<resolved_thread> threads;
  std::uint64_t allocations = 0, frees = 0, reallocs = 0;  // as recorded (frees: matched ones)
  std::uint64_t cross_thread = 0;      // frees and reallocs of another thread's block
  std::uint64_t live_at_end = 0;       // blocks nobody freed; a replay frees them at the end
  std::uint64_t unmatched_frees = 0;   // frees of addresses not live in the trace (allocated before the
                                       // recording started, or by the recorder's bootstrap)
  std::uint64_t reused_live = 0;       // allocations at an address still live: its free was not recorded
  std::uint64_t peak_live_bytes = 0;   // peak of live requested bytes, in merged order: the ideal
  std::uint64_t peak_live_ticks = 0;
  std::uint64_t first_ticks = 0, last_ticks = 0;
};

resolved_trace resolve_blocks(const trace_data& t);

}  // namespace allocbench::trace
