// peak_live_bytes under thread churn and concurrent statistics readers (issue 15, defect 3), for
// every resource that counts per thread or per shard: scalable (per-thread caches, sampled peak),
// fixed_slab with and without thread caches, segregated in its three lock modes (stats_counters).
//
// Each test knows from its own construction the most bytes that were ever live at once, and checks
// that the reported peak never exceeds it. Threads are joined before the next ones start, or run in
// waves on disjoint slots; nothing waits on time.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pmr/fixed_slab_resource.h"
#include "pmr/scalable_resource.h"
#include "pmr/segregated_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::test_upstream;

struct churn_case {
  std::string name;
  std::function<std::unique_ptr<instrumented_resource>(std::pmr::memory_resource*)> make;
};

void PrintTo(const churn_case& c, std::ostream* os) { *os << c.name; }

std::vector<churn_case> cases() {
  auto slab = [](std::size_t cache) {
    return [cache](std::pmr::memory_resource* up) {
      fixed_slab_options o;
      o.block_size = 128;
      o.thread_cache_entries = cache;
      o.checked = false;
      return std::make_unique<fixed_slab_resource>(o, up);
    };
  };
  auto segregated = [](lock_mode mode) {
    return [mode](std::pmr::memory_resource* up) {
      segregated_options o;
      o.mode = mode;
      o.checked = false;
      return std::make_unique<segregated_resource>(o, up);
    };
  };
  return {
      {"scalable",
       [](std::pmr::memory_resource* up) {
         scalable_options o;
         o.checked = false;
         return std::make_unique<scalable_resource>(o, up);
       }},
      {"fixed_slab", slab(0)},
      {"fixed_slab_thread_cache", slab(16)},
      {"segregated_global", segregated(lock_mode::global)},
      {"segregated_per_class", segregated(lock_mode::per_class)},
      {"segregated_per_class_arena", segregated(lock_mode::per_class_arena)},
  };
}

// The usable bytes one block of `bytes` takes in a resource like r (a fresh one, so r's own peak is
// untouched).
std::uint64_t usable_of(const churn_case& c, std::size_t bytes) {
  test_upstream up;
  auto r = c.make(&up);
  void* p = r->allocate(bytes, 16);
  const std::uint64_t usable = r->stats().live_bytes;
  r->deallocate(p, bytes, 16);
  return usable;
}

class PeakLiveChurn : public ::testing::TestWithParam<churn_case> {};

// 2,000 threads one after another, each allocating and freeing one 64 B block: never more than one
// block live. Before the fix each exiting scalable thread left its last sample (one block) in the
// shared total, and the peak grew by a block per thread (128 KiB after 2,000).
TEST_P(PeakLiveChurn, SequentialThreadsEachWithOneBlock) {
  const std::uint64_t one = usable_of(GetParam(), 64);
  test_upstream up;
  {
    auto r = GetParam().make(&up);
    for (int t = 0; t < 2000; ++t) {
      std::thread([&] {
        void* p = r->allocate(64, 16);
        std::memset(p, 0x64, 64);
        r->deallocate(p, 64, 16);
      }).join();
    }
    const resource_stats s = r->stats();
    EXPECT_EQ(s.live_bytes, 0u);
    EXPECT_EQ(s.allocations, 2000u);
    EXPECT_EQ(s.peak_live_bytes, one) << "true peak: one block";
  }
  EXPECT_EQ(up.outstanding_bytes(), 0u);
}

// 5,000 short-lived threads swap 128 B blocks through a 1,000-slot table: each puts a new block in a
// slot and frees the one it replaces, so at most 1,000 blocks plus one per running thread are ever
// live. Threads run in waves of four on disjoint slots, each wave joined before the next starts.
// Before the fix each exiting scalable thread left one block in the shared total (its last sample
// was taken with the new block allocated and the old one not yet freed): 640 KB after 5,000.
// Under ThreadSanitizer a thread costs ~2 ms to start: 1,500 threads keep the test to a few seconds
// and, at one block of creep per thread without the fix, still fail without it (192,000 B).
#if defined(__SANITIZE_THREAD__)
constexpr int kTableThreads = 1500;
#else
constexpr int kTableThreads = 5000;
#endif

TEST_P(PeakLiveChurn, ShortLivedThreadsSwapThroughATable) {
  constexpr int kSlots = 1000, kThreads = kTableThreads, kWave = 4, kSwapsPerThread = 8;
  const std::uint64_t one = usable_of(GetParam(), 128);
  const std::uint64_t bound = std::uint64_t(kSlots + kWave) * one;  // 128,512 B for 128 B blocks
  test_upstream up;
  {
    auto r = GetParam().make(&up);
    std::vector<void*> table(kSlots, nullptr);
    for (int first = 0; first < kThreads; first += kWave) {
      std::array<std::thread, kWave> wave;
      for (int j = 0; j < kWave; ++j) {
        const int t = first + j;
        wave[j] = std::thread([&, t] {
          for (int k = 0; k < kSwapsPerThread; ++k) {
            void* fresh = r->allocate(128, 16);
            std::memset(fresh, t & 0xff, 128);
            void* old = std::exchange(table[(t * kSwapsPerThread + k) % kSlots], fresh);
            if (old != nullptr) r->deallocate(old, 128, 16);
          }
        });
      }
      for (std::thread& th : wave) th.join();
    }
    const resource_stats s = r->stats();
    EXPECT_EQ(s.live_bytes, kSlots * one);
    EXPECT_LE(s.peak_live_bytes, bound) << "at most " << kSlots << " blocks and one per thread were live";
    for (void* p : table) r->deallocate(p, 128, 16);
  }
  EXPECT_EQ(up.outstanding_bytes(), 0u);
}

// Worker threads each hold at most kHeld blocks of 128 B (allocate kHeld, free them, again), in
// generations of new threads, while a reader calls stats() all the time: no snapshot may show more
// than the workers could hold together. A snapshot that read a cache's two credit counters across
// a refill's move counted a batch twice, and the peak kept it.
TEST_P(PeakLiveChurn, ConcurrentStatsReadersNeverRaiseThePeakAboveTheTruth) {
  constexpr int kWorkers = 3, kGenerations = 20, kRounds = 100, kHeld = 48;
  const std::uint64_t one = usable_of(GetParam(), 128);
  const std::uint64_t bound = std::uint64_t(kWorkers) * kHeld * one;
  test_upstream up;
  {
    auto r = GetParam().make(&up);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> worst{0};
    std::thread reader([&] {
      while (!stop.load()) {
        const resource_stats s = r->stats();
        if (s.live_bytes > worst.load()) worst.store(s.live_bytes);
        if (s.peak_live_bytes > worst.load()) worst.store(s.peak_live_bytes);
      }
    });
    for (int g = 0; g < kGenerations; ++g) {
      std::vector<std::thread> workers;
      for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&] {
          void* held[kHeld];
          for (int round = 0; round < kRounds; ++round) {
            for (void*& p : held) p = r->allocate(128, 16);
            for (void* p : held) r->deallocate(p, 128, 16);
          }
        });
      }
      for (std::thread& t : workers) t.join();
    }
    stop.store(true);
    reader.join();
    EXPECT_LE(worst.load(), bound);
    EXPECT_LE(r->stats().peak_live_bytes, bound);
    EXPECT_EQ(r->stats().live_bytes, 0u);
  }
  EXPECT_EQ(up.outstanding_bytes(), 0u);
}

// A producer allocates 400 blocks of 128 B, a consumer frees them all, again and again: never more
// than 400 blocks live. The two threads count in different shards of stats_counters; the consumer's
// shard used to keep its frees unpublished (a negative delta) while the producer's shard published
// its allocations, and the producer's next round raised the peak to 64 KiB with 14 KiB live.
TEST_P(PeakLiveChurn, FreesCountedInAnotherShardNeverRaiseThePeak) {
  if (GetParam().name == "scalable") {
    GTEST_SKIP() << "scalable's sampled peak can still run ahead by other threads' unpublished frees";
  }
  constexpr int kBlocks = 400, kRounds = 4;
  const std::uint64_t one = usable_of(GetParam(), 128);
  test_upstream up;
  {
    auto r = GetParam().make(&up);
    std::vector<void*> blocks(kBlocks);
    std::barrier sync(2);
    std::thread producer([&] {
      for (int round = 0; round < kRounds; ++round) {
        for (void*& p : blocks) p = r->allocate(128, 16);
        sync.arrive_and_wait();  // the consumer frees them
        sync.arrive_and_wait();
      }
    });
    std::thread consumer([&] {
      for (int round = 0; round < kRounds; ++round) {
        sync.arrive_and_wait();
        for (void* p : blocks) r->deallocate(p, 128, 16);
        sync.arrive_and_wait();
      }
    });
    producer.join();
    consumer.join();
    EXPECT_EQ(r->stats().live_bytes, 0u);
    EXPECT_LE(r->stats().peak_live_bytes, kBlocks * one) << "at most " << kBlocks << " blocks were live";
  }
  EXPECT_EQ(up.outstanding_bytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Resources, PeakLiveChurn, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace allocbench
