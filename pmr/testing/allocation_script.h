// A fixed allocation script for the throwing-upstream tests: `allocations` allocations (alignment 8)
// whose sizes cycle through `sizes`, each filled with a pattern, freeing every third block soon after.
// An allocation that throws bad_alloc is checked to have changed nothing (counts, and bytes held equal
// to what upstream has handed out), then retried: the failures a test_upstream injects are one-shot.
// At the end the counts are checked and every block is freed. Returns how many allocations threw.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "pmr/testing/stats_expectations.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench::testing {

// Resource: a std::pmr::memory_resource with stats() (any instrumented_resource).
template <class Resource>
int run_allocation_script(Resource& r, const test_upstream& up, const std::vector<std::size_t>& sizes,
                          int allocations) {
  struct block {
    void* p;
    std::size_t bytes;
  };
  std::vector<block> live;
  int throws = 0;
  for (int i = 0; i < allocations; ++i) {
    const std::size_t bytes = sizes[std::size_t(i) % sizes.size()];
    void* p = nullptr;
    const resource_stats before = r.stats();
    try {
      p = r.allocate(bytes, 8);
    } catch (const std::bad_alloc&) {
      ++throws;
      expect_same_counts(before, r.stats());
      EXPECT_EQ(r.stats().bytes_held, up.outstanding_bytes());
      p = r.allocate(bytes, 8);  // the failure was one-shot: the resource must serve again
    }
    std::memset(p, i, bytes);
    live.push_back({p, bytes});
    if (i % 3 == 2) {
      const block b = live[live.size() - 2];
      r.deallocate(b.p, b.bytes, 8);
      live.erase(live.end() - 2);
    }
  }
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, std::uint64_t(allocations));
  EXPECT_EQ(s.live_blocks, live.size());
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
  for (const block& b : live) r.deallocate(b.p, b.bytes, 8);
  EXPECT_EQ(r.stats().live_blocks, 0u);
  return throws;
}

}  // namespace allocbench::testing
