// guarded_pages under concurrent samples: the slot lists are locked, the mprotect calls are not, so
// these tests hold the slot hand-offs to account (one owner per live slot, one successful free per
// block, every count back to rest). Run under ThreadSanitizer in CI.
#include "allocator/guarded_pages.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace allocbench::detail {
namespace {

// Two threads free the same block at the same moment, round after round: exactly one succeeds, and
// the block's slot is quarantined once (the quarantine ends full, not over-full or short).
TEST(GuardedPages, TwoFreesOfOneBlockAtOnceSucceedOnce) {
  guarded_pages pages(4096, "test");
  constexpr int kRounds = 2000;
  std::atomic<void*> block{nullptr};
  std::atomic<int> go{0};    // round r's block is out once go is r + 1
  std::atomic<int> done{0};  // frees tried so far, two per round
  std::atomic<int> successes{0};
  auto racer = [&] {
    for (int round = 1; round <= kRounds; ++round) {
      while (go.load(std::memory_order_acquire) < round) {
      }
      if (pages.deallocate(block.load(std::memory_order_acquire))) successes.fetch_add(1);
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  };
  std::thread first(racer);
  std::thread second(racer);
  for (int round = 1; round <= kRounds; ++round) {
    void* p = pages.allocate(64, 16);
    ASSERT_NE(p, nullptr);
    block.store(p, std::memory_order_release);
    go.store(round, std::memory_order_release);
    while (done.load(std::memory_order_acquire) < 2 * round) {
    }
  }
  first.join();
  second.join();
  EXPECT_EQ(successes.load(), kRounds);
  EXPECT_EQ(pages.live_blocks(), 0u);
  EXPECT_EQ(pages.mapped_slots(), guarded_pages::kQuarantine);
}

// Four threads sample at once, each filling its whole block with its own byte and checking it before
// the free: a slot handed to two threads at once (reused before its closing mprotect, or taken twice
// off the lists) shows as another thread's byte.
TEST(GuardedPages, ThreadsSamplingAtOnceNeverShareASlot) {
  guarded_pages pages(4096, "test");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 3000;
  std::atomic<int> foreign{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const unsigned char mine = static_cast<unsigned char>(0x10 + t);
      void* held[3] = {};
      for (int i = 0; i < kPerThread; ++i) {
        const std::size_t bytes = 32 + std::size_t(i % 7) * 200;
        void*& slot = held[i % 3];
        if (slot != nullptr) {
          const auto* c = static_cast<const unsigned char*>(slot);
          const std::size_t had = 32 + std::size_t((i - 3) % 7) * 200;
          for (std::size_t k = 0; k < had; ++k) {
            if (c[k] != mine) {
              foreign.fetch_add(1);
              break;
            }
          }
          EXPECT_TRUE(pages.deallocate(slot));
        }
        slot = pages.allocate(bytes, 16);
        if (slot == nullptr) {
          refused.fetch_add(1);
          continue;
        }
        std::memset(slot, mine, bytes);
      }
      for (std::size_t k = 0; k < 3; ++k) {
        if (held[k] != nullptr) EXPECT_TRUE(pages.deallocate(held[k]));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(foreign.load(), 0);
  EXPECT_EQ(refused.load(), 0);  // at most 12 live blocks: a slot is always free or evictable
  EXPECT_EQ(pages.live_blocks(), 0u);
  EXPECT_EQ(pages.mapped_slots(), guarded_pages::kQuarantine);
}

}  // namespace
}  // namespace allocbench::detail
