// Every resource over an upstream that fails at every n-th call, for n = 1 .. kMaxN in turn, with
// 8 threads that free each other's blocks (issue 15, section 4). A failed request must throw
// std::bad_alloc and change nothing: no block lost (the upstream holds nothing once the resource is
// gone), no block corrupted (each keeps the pattern written into it until its free), and once the
// upstream recovers every request succeeds again. Threads meet at barriers; nothing waits on time.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "pmr/testing/resource_cases.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::resource_case;
using testing::test_upstream;

constexpr int kThreads = 8;
constexpr int kRounds = 3;
constexpr int kPerRound = 40;
constexpr std::size_t kMaxN = 6;

struct block {
  unsigned char* p;
  std::size_t bytes;
  unsigned char tag;
};

struct tally {
  std::atomic<int> corrupted{0};
  std::atomic<int> failed{0};
  std::atomic<int> succeeded{0};
};

// kRounds rounds: every thread allocates kPerRound blocks (a bad_alloc is counted and skipped) and
// writes its pattern; then each frees its right neighbour's blocks after checking the pattern.
void run_rounds(std::pmr::memory_resource& r, const std::vector<std::size_t>& sizes, tally& t) {
  std::vector<std::vector<block>> made(kThreads);
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) {
    threads.emplace_back([&, id] {
      for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kPerRound; ++i) {
          const std::size_t bytes = sizes[std::size_t(i * 7 + id + round) % sizes.size()];
          const auto tag = static_cast<unsigned char>(id * 37 + i * 3 + round);
          try {
            auto* p = static_cast<unsigned char*>(r.allocate(bytes, 16));
            std::memset(p, tag, bytes);
            made[id].push_back({p, bytes, tag});
            t.succeeded.fetch_add(1, std::memory_order_relaxed);
          } catch (const std::bad_alloc&) {
            t.failed.fetch_add(1, std::memory_order_relaxed);
          }
        }
        sync.arrive_and_wait();
        for (const block& b : made[(id + 1) % kThreads]) {
          for (std::size_t k = 0; k < b.bytes; ++k) {
            if (b.p[k] != b.tag) {
              t.corrupted.fetch_add(1, std::memory_order_relaxed);
              break;
            }
          }
          r.deallocate(b.p, b.bytes, 16);
        }
        made[(id + 1) % kThreads].clear();
        sync.arrive_and_wait();
      }
    });
  }
  for (std::thread& th : threads) th.join();
}

class UpstreamFaults : public ::testing::TestWithParam<resource_case> {};

TEST_P(UpstreamFaults, EveryNthCallFailsNothingLeaksOrBreaksAndAllRecovers) {
  test_upstream up;
  {
    std::unique_ptr<instrumented_resource> r = GetParam().make(&up);
    tally faulty;
    for (std::size_t n = 1; n <= kMaxN; ++n) {
      up.fail_every(n);
      run_rounds(*r, GetParam().sizes, faulty);
    }
    EXPECT_GT(up.failures(), 0u) << "the faults must have reached the resource";
    EXPECT_EQ(faulty.corrupted.load(), 0) << "a block's contents changed between allocate and free";

    up.fail_every(0);  // recovered
    tally healthy;
    run_rounds(*r, GetParam().sizes, healthy);
    EXPECT_EQ(healthy.failed.load(), 0) << "requests still fail after the upstream recovered";
    EXPECT_EQ(healthy.succeeded.load(), kThreads * kRounds * kPerRound);
    EXPECT_EQ(healthy.corrupted.load(), 0);

    const resource_stats s = r->stats();
    EXPECT_EQ(s.live_blocks, 0u);
    EXPECT_EQ(s.allocations, std::uint64_t(faulty.succeeded.load() + healthy.succeeded.load()));
    EXPECT_EQ(s.deallocations, s.allocations);
    r->release();
    EXPECT_EQ(up.outstanding_bytes(), 0u) << "release() must give every upstream block back";
  }
  EXPECT_EQ(up.outstanding_bytes(), 0u) << "the destructor must give every upstream block back";
}

INSTANTIATE_TEST_SUITE_P(AllResources, UpstreamFaults, ::testing::ValuesIn(testing::all_resource_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace allocbench
