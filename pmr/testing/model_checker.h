// A randomised model test for any memory_resource: long random sequences of allocate and deallocate
// with random sizes and alignments, checked against a model kept here.
//
// Checks, on every step: alignment of each block; no two live blocks overlap; a pattern written into
// each block survives until its free; and, when a stats source is given, that the resource's counts
// (allocations, deallocations, live blocks, live requested bytes) agree with the model, and that
// live usable bytes cover live requested bytes.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory_resource>
#include <random>
#include <vector>

#include "pmr/resource_stats.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench::testing {

struct model_options {
  std::uint64_t seed = 1;
  std::size_t operations = 20000;
  std::size_t max_live = 512;
  std::vector<std::size_t> sizes;       // explicit sizes to draw from, or empty for [0, max_size]
  std::size_t max_size = 4096;
  std::vector<std::size_t> alignments = {1, 2, 4, 8, 16, 32, 64, 128, 256, 4096};
  double allocate_probability = 0.55;
  std::size_t stats_every = 97;         // compare stats() with the model every this many steps
};

struct model_block {
  std::byte* p;
  std::size_t bytes;
  std::size_t alignment;
  std::uint8_t tag;
};

class model_checker {
 public:
  // `stats` may be empty when the resource reports none.
  model_checker(std::pmr::memory_resource& r, std::function<resource_stats()> stats = {})
      : r_(r), stats_(std::move(stats)) {
    if (stats_) base_ = stats_();
  }

  ~model_checker() { free_all(); }

  void run(const model_options& o) {
    std::mt19937_64 rng(o.seed);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    for (std::size_t step = 0; step < o.operations; ++step) {
      const bool allocate = live_.empty() || (live_.size() < o.max_live && coin(rng) < o.allocate_probability);
      if (allocate) {
        const std::size_t bytes = o.sizes.empty()
                                      ? std::uniform_int_distribution<std::size_t>(0, o.max_size)(rng)
                                      : o.sizes[rng() % o.sizes.size()];
        const std::size_t alignment = o.alignments[rng() % o.alignments.size()];
        allocate_one(bytes, alignment);
      } else {
        free_one(rng() % live_.size());
      }
      if (::testing::Test::HasFatalFailure()) return;
      if (stats_ && o.stats_every && step % o.stats_every == 0) check_stats();
      if (::testing::Test::HasFailure()) return;
    }
    check_stats();
  }

  void allocate_one(std::size_t bytes, std::size_t alignment) {
    auto* p = static_cast<std::byte*>(r_.allocate(bytes, alignment));
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u)
        << "block of " << bytes << " bytes not aligned to " << alignment;
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t end = start + (bytes == 0 ? 1 : bytes);
    auto next = extents_.lower_bound(start);
    if (next != extents_.end()) {
      ASSERT_LE(end, next->first) << "blocks overlap";
    }
    if (next != extents_.begin()) {
      ASSERT_LE(std::prev(next)->second, start) << "blocks overlap";
    }
    extents_[start] = end;
    const auto tag = static_cast<std::uint8_t>(counter_++ * 131 + 7);
    std::memset(p, tag, bytes);
    live_.push_back({p, bytes, alignment, tag});
    ++allocations_;
    live_requested_ += bytes;
  }

  void free_one(std::size_t index) {
    model_block b = live_[index];
    live_[index] = live_.back();
    live_.pop_back();
    for (std::size_t i = 0; i < b.bytes; ++i) {
      if (static_cast<std::uint8_t>(b.p[i]) != b.tag) {
        ADD_FAILURE() << "block of " << b.bytes << " bytes overwritten at offset " << i;
        break;
      }
    }
    extents_.erase(reinterpret_cast<std::uintptr_t>(b.p));
    r_.deallocate(b.p, b.bytes, b.alignment);
    ++deallocations_;
    live_requested_ -= b.bytes;
  }

  void free_all() {
    while (!live_.empty()) free_one(live_.size() - 1);
  }

  void check_stats() {
    if (!stats_) return;
    const resource_stats s = stats_();
    EXPECT_EQ(s.allocations - base_.allocations, allocations_);
    EXPECT_EQ(s.deallocations - base_.deallocations, deallocations_);
    EXPECT_EQ(s.live_blocks - base_.live_blocks, live_.size());
    EXPECT_EQ(s.live_requested_bytes - base_.live_requested_bytes, live_requested_);
    EXPECT_GE(s.live_usable_bytes, s.live_requested_bytes);
    EXPECT_GE(s.peak_live_bytes, s.live_bytes);
  }

  std::size_t live_count() const { return live_.size(); }

 private:
  std::pmr::memory_resource& r_;
  std::function<resource_stats()> stats_;
  resource_stats base_;
  std::vector<model_block> live_;
  std::map<std::uintptr_t, std::uintptr_t> extents_;
  std::size_t counter_ = 0;
  std::uint64_t allocations_ = 0;
  std::uint64_t deallocations_ = 0;
  std::uint64_t live_requested_ = 0;
};

// Runs `m` on r under a model checker, which then frees what is left; r must hold no live block and
// exactly what it took from `up`. Returns r's figures for checks of the resource's own.
template <class Resource>
resource_stats run_model_until_empty(Resource& r, const test_upstream& up, const model_options& m) {
  {
    model_checker checker(r, [&] { return r.stats(); });
    checker.run(m);
  }
  const resource_stats s = r.stats();
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
  return s;
}

}  // namespace allocbench::testing
