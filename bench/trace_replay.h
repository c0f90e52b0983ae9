// Replays a recorded trace (trace/block_resolver.h) against one resource: each recorded thread is a
// replay thread, started together behind a barrier and running its operations back to back (the
// recorded gaps between calls are not reproduced).
//
// - A free (or realloc) of a block another thread allocated waits for that allocation only: each
//   block has a slot that its allocation publishes (release) and its free reads (acquire), so no
//   free waits for unrelated threads. The merged order of the trace makes these waits acyclic.
// - realloc goes through pmr as allocate(new size), copy min(old, new) bytes, deallocate(old): a
//   std::pmr::memory_resource has no realloc, so an allocator's in-place growth is not measured.
// - Every block is written as a program would first touch it: its first 64 bytes and one byte in
//   each further page, so that the resident memory a replay shows is the memory the blocks occupy.
// - Alignments above 4096 (rare: posix_memalign of huge pages) are replayed as 4096.
// - One call in 16 is timed (the TSC, bench/tsc_clock.h), per kind.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "bench/runner.h"
#include "trace/block_resolver.h"

namespace allocbench::bench {

struct call_distribution {
  double p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  std::uint64_t samples = 0;
  std::vector<std::uint64_t> log2_ns;  // [i]: samples in [2^i, 2^(i+1)) ns
};

struct replay_result {
  int threads = 0;
  double seconds = 0;  // common start to the last thread's end, over all passes
  std::uint64_t allocations = 0, deallocations = 0;  // allocator calls (a realloc is one of each)
  std::uint64_t reallocs = 0;
  std::uint64_t remote_waits = 0;  // cross-thread frees that found their block not yet allocated
  latency_summary allocate, deallocate;
  call_distribution calls;  // every timed call: allocations, frees and reallocs
  double mops() const { return seconds > 0 ? double(allocations + deallocations) / seconds / 1e6 : 0; }
};

replay_result run_replay(const trace::resolved_trace& t, std::pmr::memory_resource& target, std::size_t passes = 1);

}  // namespace allocbench::bench
