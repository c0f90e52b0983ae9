// Multithreaded stress test for every resource: 8 threads allocate, write a pattern, and hand most of
// their blocks to the next thread in a ring, which checks the pattern and frees them. So most frees
// happen on a thread other than the allocating one (the RL actor/learner pattern). Runs in the tsan
// configuration in CI, which is where data races in the resources would show.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pmr/best_fit_resource.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/presets.h"
#include "pmr/segregated_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::test_upstream;

constexpr int kThreads = 8;
constexpr int kBlocksPerThread = 1500;

struct block {
  std::byte* p;
  std::size_t bytes;
  std::size_t alignment;
  std::uint8_t tag;
};

// A blocking queue: the hand-off between neighbours in the ring (condition variable, no sleeps).
class inbox {
 public:
  void put(block b) {
    {
      std::lock_guard lock(mu_);
      q_.push_back(b);
    }
    cv_.notify_one();
  }
  // Waits for a block.
  block take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty(); });
    block b = q_.front();
    q_.pop_front();
    return b;
  }
  // A block if one is waiting.
  bool try_take(block& out) {
    std::lock_guard lock(mu_);
    if (q_.empty()) return false;
    out = q_.front();
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<block> q_;
};

struct request_shape {
  std::vector<std::size_t> sizes;
  std::vector<std::size_t> alignments;
};

// Frees a block after checking that nobody wrote over it; counts a corruption instead of asserting
// (gtest assertions from many threads at once are not worth the noise).
void check_and_free(std::pmr::memory_resource& r, const block& b, std::atomic<int>& corrupted) {
  for (std::size_t i = 0; i < b.bytes; ++i) {
    if (static_cast<std::uint8_t>(b.p[i]) != b.tag) {
      corrupted.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  r.deallocate(b.p, b.bytes, b.alignment);
}

// Runs the ring. Every thread sends 3 of 4 blocks to its right neighbour and frees the fourth itself,
// so it receives exactly as many as its left neighbour sends: the count below is known in advance.
void run_ring(std::pmr::memory_resource& r, const request_shape& shape) {
  std::vector<inbox> inboxes(kThreads);
  std::atomic<int> corrupted{0};
  std::atomic<int> misaligned{0};
  constexpr int kSent = kBlocksPerThread - kBlocksPerThread / 4;

  auto worker = [&](int id) {
    std::mt19937 rng(1234 + id);
    inbox& mine = inboxes[id];
    inbox& next = inboxes[(id + 1) % kThreads];
    std::vector<block> own;
    int received = 0;
    for (int i = 0; i < kBlocksPerThread; ++i) {
      const std::size_t bytes = shape.sizes[rng() % shape.sizes.size()];
      const std::size_t alignment = shape.alignments[rng() % shape.alignments.size()];
      auto* p = static_cast<std::byte*>(r.allocate(bytes, alignment));
      if (reinterpret_cast<std::uintptr_t>(p) % alignment != 0) misaligned.fetch_add(1);
      const auto tag = static_cast<std::uint8_t>(id * 31 + i);
      std::memset(p, tag, bytes);
      const block b{p, bytes, alignment, tag};
      if (i % 4 == 3) {
        own.push_back(b);
        if (own.size() > 16) {  // some local frees interleaved with the remote ones
          check_and_free(r, own.front(), corrupted);
          own.erase(own.begin());
        }
      } else {
        next.put(b);
      }
      block in;
      while (mine.try_take(in)) {
        check_and_free(r, in, corrupted);
        ++received;
      }
    }
    for (const block& b : own) check_and_free(r, b, corrupted);
    while (received < kSent) {
      check_and_free(r, mine.take(), corrupted);
      ++received;
    }
  };

  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) threads.emplace_back(worker, id);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(corrupted.load(), 0) << "a block's contents changed between allocate and free";
  EXPECT_EQ(misaligned.load(), 0) << "a block did not have the requested alignment";
}

struct stress_case {
  std::string name;
  std::function<std::unique_ptr<instrumented_resource>(std::pmr::memory_resource*)> make;
  request_shape shape;
};

std::vector<stress_case> cases() {
  const request_shape small{{1, 8, 24, 48, 64}, {1, 8, 16}};
  const request_shape classes{{0, 1, 32, 100, 256, 700, 2048, 4096}, {1, 8, 16, 32, 64}};
  const request_shape mixed{{8, 32, 100, 200, 256, 1000, 4096, 10000, 70000, 300000},
                            {8, 16, 64, 256}};
  auto segregated = [classes](lock_mode mode, std::string name) {
    return stress_case{std::move(name),
                       [mode](std::pmr::memory_resource* up) {
                         segregated_options o;
                         o.mode = mode;
                         return std::make_unique<segregated_resource>(o, up);
                       },
                       classes};
  };
  auto slab = [small](std::size_t cache, std::string name) {
    return stress_case{std::move(name),
                       [cache](std::pmr::memory_resource* up) {
                         fixed_slab_options o;
                         o.block_size = 64;
                         o.chunk_bytes = 4096;  // small chunks: many refills under contention
                         o.thread_cache_entries = cache;
                         return std::make_unique<fixed_slab_resource>(o, up);
                       },
                       small};
  };
  std::vector<stress_case> all = {
      slab(0, "fixed_slab"),
      slab(16, "fixed_slab_thread_cache"),
      segregated(lock_mode::global, "segregated_global"),
      segregated(lock_mode::per_class, "segregated_per_class"),
      segregated(lock_mode::per_class_arena, "segregated_per_class_arena"),
      {"best_fit",
       [](std::pmr::memory_resource* up) {
         best_fit_options o;
         o.region_bytes = 256 * 1024;
         o.direct_threshold = 128 * 1024;
         return std::make_unique<best_fit_resource>(o, up);
       },
       mixed},
  };
  for (const std::string& name : preset_names()) {
    all.push_back({"preset_" + name,
                   [name](std::pmr::memory_resource* up) { return make_preset(name, up); }, mixed});
  }
  return all;
}

class CrossThreadStress : public ::testing::TestWithParam<stress_case> {};

TEST_P(CrossThreadStress, BlocksFreedByOtherThreadsKeepTheResourceConsistent) {
  test_upstream upstream;  // thread-safe; fails the test on a leak or a bad upstream free
  {
    std::unique_ptr<instrumented_resource> r = GetParam().make(&upstream);
    run_ring(*r, GetParam().shape);
    const resource_stats s = r->stats();
    EXPECT_EQ(s.allocations, std::uint64_t(kThreads) * kBlocksPerThread);
    EXPECT_EQ(s.deallocations, s.allocations);
    EXPECT_EQ(s.live_blocks, 0u);
    EXPECT_EQ(s.live_requested_bytes, 0u);
    EXPECT_EQ(s.live_bytes, 0u);
    EXPECT_GT(s.peak_live_bytes, 0u);
    EXPECT_LE(s.bytes_held, upstream.outstanding_bytes());
    // A second round on the same resource reuses what the first left behind, threads now new.
    run_ring(*r, GetParam().shape);
    EXPECT_EQ(r->stats().live_blocks, 0u);
  }
  EXPECT_EQ(upstream.outstanding_blocks(), 0u) << "the destructor must give every chunk back";
}

INSTANTIATE_TEST_SUITE_P(AllResources, CrossThreadStress, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace allocbench
