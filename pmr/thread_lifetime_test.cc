// Every resource against the lifetimes of the threads that use it (issue 15, section 4): threads
// that exit while their caches hold blocks (and while other threads still hold blocks they
// allocated), and resources destroyed before and after those threads exit. Meant for the asan and
// tsan configurations: a block lost shows as an upstream leak, a cache touched after its resource
// went as a use after free or a race. Barriers and joins only.
#include <gtest/gtest.h>

#include <barrier>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "pmr/testing/resource_cases.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::resource_case;
using testing::test_upstream;

constexpr int kThreads = 4;
constexpr int kBlocks = 300;

struct block {
  unsigned char* p;
  std::size_t bytes;
  unsigned char tag;
};

std::size_t size_at(const resource_case& c, int i) { return c.sizes[std::size_t(i) % c.sizes.size()]; }

// Allocates kBlocks, frees two in three (into this thread's cache, where there is one) and returns
// the rest, written with `tag`.
std::vector<block> fill_cache_keep_some(std::pmr::memory_resource& r, const resource_case& c,
                                        unsigned char tag) {
  std::vector<block> kept;
  for (int i = 0; i < kBlocks; ++i) {
    const std::size_t bytes = size_at(c, i);
    auto* p = static_cast<unsigned char*>(r.allocate(bytes, 16));
    std::memset(p, tag, bytes);
    if (i % 3 == 0) kept.push_back({p, bytes, tag});
    else r.deallocate(p, bytes, 16);
  }
  return kept;
}

void expect_intact_and_free(std::pmr::memory_resource& r, const std::vector<block>& blocks) {
  for (const block& b : blocks) {
    for (std::size_t k = 0; k < b.bytes; ++k) {
      if (b.p[k] != b.tag) {
        ADD_FAILURE() << "block " << static_cast<void*>(b.p) << " changed at byte " << k;
        break;
      }
    }
    r.deallocate(b.p, b.bytes, 16);
  }
}

class ThreadLifetime : public ::testing::TestWithParam<resource_case> {};

// Threads exit holding cached blocks; the blocks they kept live are freed by the main thread after
// they are gone, and the resource (destroyed after its threads) gives everything back.
TEST_P(ThreadLifetime, ThreadsExitHoldingCachedBlocksThenTheResourceGoes) {
  test_upstream up;
  {
    std::unique_ptr<instrumented_resource> r = GetParam().make(&up);
    for (int generation = 0; generation < 3; ++generation) {
      std::vector<std::vector<block>> kept(kThreads);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] { kept[t] = fill_cache_keep_some(*r, GetParam(), static_cast<unsigned char>(t + 1)); });
      }
      for (std::thread& th : threads) th.join();
      for (const auto& k : kept) expect_intact_and_free(*r, k);
      const resource_stats s = r->stats();
      EXPECT_EQ(s.live_blocks, 0u);
      EXPECT_EQ(s.deallocations, s.allocations);
    }
  }
  EXPECT_EQ(up.outstanding_bytes(), 0u);
}

// The resource is destroyed while the threads that used it still run with its blocks in their
// caches; they go on with another resource of the same kind, and exit after it is gone.
TEST_P(ThreadLifetime, ResourceDestroyedBeforeItsThreadsExit) {
  test_upstream up;
  std::unique_ptr<instrumented_resource> doomed = GetParam().make(&up);
  test_upstream survivor_up;
  std::unique_ptr<instrumented_resource> survivor = GetParam().make(&survivor_up);
  std::vector<std::vector<block>> kept(kThreads);
  std::barrier sync(kThreads + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<block> mine = fill_cache_keep_some(*doomed, GetParam(), static_cast<unsigned char>(t + 1));
      expect_intact_and_free(*doomed, mine);  // caches now hold blocks of `doomed`
      sync.arrive_and_wait();                 // main destroys `doomed`
      sync.arrive_and_wait();
      kept[t] = fill_cache_keep_some(*survivor, GetParam(), static_cast<unsigned char>(t + 9));
    });
  }
  sync.arrive_and_wait();
  doomed.reset();
  EXPECT_EQ(up.outstanding_bytes(), 0u) << "a destroyed resource must take its blocks back from live threads' caches";
  sync.arrive_and_wait();
  for (std::thread& th : threads) th.join();
  for (const auto& k : kept) expect_intact_and_free(*survivor, k);
  EXPECT_EQ(survivor->stats().live_blocks, 0u);
  survivor.reset();
  EXPECT_EQ(survivor_up.outstanding_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllResources, ThreadLifetime, ::testing::ValuesIn(testing::all_resource_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace allocbench
