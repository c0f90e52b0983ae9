// A seeded script of allocations (of several sizes and alignments) and frees of random live blocks,
// and a runner that plays it against a resource on a failing upstream: an allocate that throws
// bad_alloc must change no count, and is retried (the failures a test_upstream injects are one-shot),
// so the resource must go on serving. For the upstream-failure sweeps of the resources that serve many
// sizes (best_fit, routing); see allocation_script.h for the sweep itself.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "pmr/resource_stats.h"
#include "pmr/testing/stats_expectations.h"

namespace allocbench::testing {

struct script_step {
  bool allocate;
  std::size_t bytes;      // allocate
  std::size_t alignment;  // allocate
  std::size_t index;      // free: which live block (modulo the count)
};

// `steps` steps, two in three of them allocations, each of a size of `sizes` at an alignment of
// `alignments`, drawn from a generator seeded with `seed` (the same script for the same arguments).
inline std::vector<script_step> make_random_script(std::uint64_t seed, std::size_t steps,
                                                   const std::vector<std::size_t>& sizes,
                                                   const std::vector<std::size_t>& alignments) {
  std::mt19937_64 rng(seed);
  std::vector<script_step> script;
  for (std::size_t i = 0; i < steps; ++i) {
    // Braced initialisation evaluates left to right: the draws come in the order of the fields.
    script.push_back({rng() % 3 != 0, sizes[rng() % sizes.size()], alignments[rng() % alignments.size()],
                      std::size_t(rng() % 1000)});
  }
  return script;
}

// Writes the first and last bytes of a block: enough for asan to see a block that is too short,
// without the cost of filling large blocks under tsan.
inline void touch_block_edges(void* p, std::size_t bytes) {
  const std::size_t edge = bytes < 64 ? bytes : 64;
  std::memset(p, 0xab, edge);
  std::memset(static_cast<std::byte*>(p) + bytes - edge, 0xab, edge);
}

// Plays `script` on r (free steps on an empty set allocate instead) and frees what is left; returns
// how many allocates threw bad_alloc. Around each throw, besides the counts (expect_same_counts),
// `extra_check()` is called before the allocate and the callable it returns after the throw, for state
// of r's own that must not change either (e.g. its free space).
template <class Resource, class ExtraCheck>
std::size_t run_random_script(Resource& r, const std::vector<script_step>& script, ExtraCheck extra_check) {
  struct live {
    void* p;
    std::size_t bytes, alignment;
  };
  std::vector<live> blocks;
  std::size_t bad_allocs = 0;
  for (const script_step& s : script) {
    if (s.allocate || blocks.empty()) {
      void* p = nullptr;
      const resource_stats before = r.stats();
      auto expect_unchanged = extra_check();
      try {
        p = r.allocate(s.bytes, s.alignment);
      } catch (const std::bad_alloc&) {
        ++bad_allocs;
        expect_same_counts(before, r.stats());
        expect_unchanged();
        p = r.allocate(s.bytes, s.alignment);
      }
      touch_block_edges(p, s.bytes);
      blocks.push_back({p, s.bytes, s.alignment});
    } else {
      const std::size_t i = s.index % blocks.size();
      r.deallocate(blocks[i].p, blocks[i].bytes, blocks[i].alignment);
      blocks[i] = blocks.back();
      blocks.pop_back();
    }
  }
  for (const live& b : blocks) r.deallocate(b.p, b.bytes, b.alignment);
  return bad_allocs;
}

template <class Resource>
std::size_t run_random_script(Resource& r, const std::vector<script_step>& script) {
  return run_random_script(r, script, [] { return [] {}; });
}

}  // namespace allocbench::testing
