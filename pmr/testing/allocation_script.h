// A fixed allocation script for the throwing-upstream tests: `allocations` allocations (alignment 8)
// whose sizes cycle through `sizes`, each filled with a pattern, freeing every third block soon after.
// An allocation that throws bad_alloc is checked to have changed nothing (counts, and bytes held equal
// to what upstream has handed out), then retried: the failures a test_upstream injects are one-shot.
// At the end the counts are checked and every block is freed. Returns how many allocations threw.
//
// expect_every_upstream_failure_survived runs such a script once per upstream call, failing that call.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
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

// One run of the failure sweep below: the upstream to build the resource on, and arm(), which the
// run calls once the resource is built (so that building it never fails) to make the n-th upstream
// call from then on fail (none for n = 0).
struct upstream_failure {
  test_upstream& up;
  std::size_t n = 0;
  std::size_t calls_at_arm = 0;

  void arm() {
    calls_at_arm = up.allocate_calls();
    if (n != 0) up.fail_at(n);
  }
  std::size_t calls_since_arm() const { return up.allocate_calls() - calls_at_arm; }
};

// The failure sweep. `run(f)` builds a resource on f.up, calls f.arm(), runs a fixed script, checks
// what it wants while the resource lives, destroys it and returns how many allocations threw
// bad_alloc. It runs once with no failure (none may throw, and upstream must be called at least
// `min_calls` times, or the sweep means little), then once per upstream call with that call failing:
// each run sees exactly that one failure, makes the same calls plus the failed one, and leaks nothing.
template <class Run>
void expect_every_upstream_failure_survived(Run run, std::size_t min_calls) {
  std::size_t reference_calls = 0;
  {
    test_upstream up;
    upstream_failure none{up};
    EXPECT_EQ(run(none), 0u);
    reference_calls = none.calls_since_arm();
  }
  ASSERT_GE(reference_calls, min_calls) << "the script must call upstream often to mean anything";
  for (std::size_t n = 1; n <= reference_calls; ++n) {
    SCOPED_TRACE("upstream call " + std::to_string(n) + " of " + std::to_string(reference_calls) + " fails");
    test_upstream up;  // its destructor fails the test on a leaked block
    upstream_failure failure{up, n};
    EXPECT_EQ(run(failure), 1u);
    EXPECT_EQ(up.failures(), 1u);
    EXPECT_EQ(failure.calls_since_arm(), reference_calls + 1);  // the same calls, plus the failed one
    EXPECT_EQ(up.outstanding_blocks(), 0u);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace allocbench::testing
