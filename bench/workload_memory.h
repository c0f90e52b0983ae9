// The memory a workload asks for, estimated from its limits before anything is allocated, and the
// budget it must fit: a small file can otherwise ask for terabytes (ops_per_thread x threads of trace,
// live_cap x the largest size x threads of live blocks, ...), and the run would die in the kernel's
// OOM killer, an hour in, instead of failing at parse time with a message.
#pragma once

#include <cstdint>

#include "bench/workload_config.h"

namespace allocbench::bench {

// The default budget is kDefaultMemoryBudget (bench/workload_config.h).

// Upper estimates, in bytes, at the workload's largest thread count; each saturates at UINT64_MAX
// instead of wrapping.
struct memory_estimate {
  std::uint64_t traces = 0;       // the pre-generated ops of every thread
  std::uint64_t bookkeeping = 0;  // the executors' per-slot state (pointers, sizes, empty containers)
  std::uint64_t blocks = 0;       // what the allocator hands out at most at once: live items, blocks
                                  // in flight between threads, request buffers
  std::uint64_t total = 0;
  const char* dominant_field = "";  // the field whose product dominates, for the error message
};

memory_estimate estimate_memory(const workload_config& w);

// Throws config_error (w.source, the dominant field, the figures and the budget) when the estimate's
// total exceeds `budget` bytes.
void check_memory_budget(const workload_config& w, std::uint64_t budget);

}  // namespace allocbench::bench
