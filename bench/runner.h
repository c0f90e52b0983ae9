// One timed run: n threads replay their traces against one resource, started together, and report
// throughput and sampled per-call latency.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "bench/trace.h"

namespace allocbench::bench {

struct run_settings {
  // true: the traces repeat (wrapping around) until `seconds` have passed; false: one pass over each
  // thread's trace, cut short after `seconds` when that is positive.
  bool repeat = true;
  double seconds = 0.5;
  std::size_t alignment = 16;
  std::size_t queue_capacity = 256;  // ring_handoff only
};

struct latency_summary {
  double p50_ns = 0, p99_ns = 0, p999_ns = 0;
  std::uint64_t samples = 0;
};

struct run_result {
  int threads = 0;
  double seconds = 0;                // from the common start to the last thread's stop
  std::uint64_t allocations = 0;     // allocator calls inside the timed window
  std::uint64_t deallocations = 0;
  std::uint64_t total_allocations = 0;    // including what was freed after the window, and each
                                          // thread's pair before it (warm_thread_state, runner.cc)
  std::uint64_t total_deallocations = 0;  // equal to total_allocations when nothing leaked
  latency_summary allocate, deallocate;
  double mops() const { return seconds > 0 ? double(allocations + deallocations) / seconds / 1e6 : 0; }
};

// One thread per trace. Everything each thread allocates is freed before this returns.
run_result run_timed(const std::vector<thread_trace>& traces, std::pmr::memory_resource& target,
                     const run_settings& settings);

}  // namespace allocbench::bench
