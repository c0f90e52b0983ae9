// allocbench::resource_stats: what every resource of ours reports through stats().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace allocbench {

// Figures for one size class (or one child of a routing resource).
struct class_stats {
  std::string name;                  // "64" for a 64-byte class, or a child resource's label
  std::size_t block_size = 0;        // usable bytes of each block (0 when blocks vary)
  std::uint64_t allocations = 0;     // allocate calls served by this class
  std::uint64_t deallocations = 0;   // deallocate calls returned to this class
  std::uint64_t live_blocks = 0;     // allocations - deallocations
  std::uint64_t bytes_held = 0;      // upstream bytes this class holds right now
};

// A snapshot, summed over threads when read. Counters are per-thread or relaxed, so a snapshot taken
// while other threads allocate is a consistent-enough view, not an atomic one.
struct resource_stats {
  std::uint64_t allocations = 0;            // successful allocate calls
  std::uint64_t deallocations = 0;          // deallocate calls
  std::uint64_t live_blocks = 0;            // allocations - deallocations
  std::uint64_t live_requested_bytes = 0;   // sum of requested sizes of live blocks
  std::uint64_t live_usable_bytes = 0;      // sum of usable sizes of live blocks
  std::uint64_t live_bytes = 0;             // memory the live blocks occupy (= live_usable_bytes)
  std::uint64_t peak_live_bytes = 0;        // high-water mark of live_bytes (see stats_counters.h)
  std::uint64_t total_requested_bytes = 0;  // sum of requested sizes over every allocation
  std::uint64_t total_usable_bytes = 0;     // sum of usable sizes over every allocation
  std::uint64_t bytes_held = 0;             // bytes currently obtained from upstream
  std::uint64_t peak_bytes_held = 0;        // high-water mark of bytes_held
  std::uint64_t contention_events = 0;      // lock acquisitions that found the lock taken
  std::vector<class_stats> classes;         // per class or per child, where the resource has them

  // The origin report's overhead ratio: usable / requested, summed over all allocations.
  double overhead_ratio() const {
    return total_requested_bytes == 0 ? 1.0
                                      : double(total_usable_bytes) / double(total_requested_bytes);
  }
  // The same over the blocks live right now.
  double live_overhead_ratio() const {
    return live_requested_bytes == 0 ? 1.0
                                     : double(live_usable_bytes) / double(live_requested_bytes);
  }
};

}  // namespace allocbench
