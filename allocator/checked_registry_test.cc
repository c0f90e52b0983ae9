// checked_registry on its own: the sharded table agrees with a model under random inserts and
// removals, invalid frees are told apart, and the addresses remembered stay bounded by the quarantine.
#include "allocator/checked_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "pmr/testing/invalid_free_recorder.h"

namespace allocbench::detail {
namespace {

using testing::invalid_free_recorder;

// Fake blocks of 32 bytes, spread over many 64 KiB windows so that every shard is used.
struct arena {
  static constexpr std::size_t kBlock = 32;
  std::vector<std::byte> bytes = std::vector<std::byte>(8 << 20);
  void* block(std::size_t i) { return bytes.data() + (i * kBlock) % bytes.size(); }
};

TEST(CheckedRegistry, AgreesWithAModelUnderRandomAllocationsAndFrees) {
  invalid_free_recorder recorder;
  arena a;
  checked_registry reg("test");
  std::map<void*, bool> live;  // block -> live (false: freed; may still be quarantined)
  std::mt19937_64 rng(7);
  const std::size_t blocks = a.bytes.size() / arena::kBlock;
  for (int op = 0; op < 4000; ++op) {
    void* p = a.block(rng() % (blocks / 4));  // a quarter of the blocks: addresses come back often
    auto it = live.find(p);
    if (it == live.end() || !it->second) {
      // Not live here: either never handed out or freed. A freed one may still be in quarantine;
      // a real engine would not hand it out then, so skip it unless it has left.
      if (it != live.end()) continue;
      reg.prepare();
      reg.on_allocate(p, 24, 8, arena::kBlock);
      live[p] = true;
    } else {
      checked_registry::free_result r;
      reg.on_deallocate(p, 24, 8, r);
      ASSERT_TRUE(r.accepted);
      live.erase(it);
      // The evicted blocks were freed (the model may still hold them as quarantined at the last
      // look) and are forgotten now: they may be handed out again.
      for (std::size_t i = 0; i < r.evicted_count; ++i) {
        EXPECT_FALSE(r.evicted_dirty[i]);
        const auto e = live.find(r.evicted[i].p);
        EXPECT_TRUE(e == live.end() || !e->second);
        if (e != live.end()) live.erase(e);
        EXPECT_FALSE(reg.is_live(r.evicted[i].p));
      }
      // Quarantined ones are remembered as freed: mark them so that they are not allocated again.
      reg.for_each_quarantined([&](const checked_block& b) { live.emplace(b.p, false); });
      for (auto q = live.begin(); q != live.end();) {
        if (q->second) {
          ++q;
          continue;
        }
        bool still = false;
        reg.for_each_quarantined([&](const checked_block& b) { still = still || b.p == q->first; });
        q = still ? std::next(q) : live.erase(q);
      }
    }
    if (op % 500 == 0) {
      std::size_t n = 0;
      n = live.size();
      EXPECT_EQ(reg.remembered(), n);
    }
  }
  EXPECT_TRUE(recorder.reports().empty());
}

TEST(CheckedRegistry, TellsForeignDoubleAndMismatchedFreesApart) {
  invalid_free_recorder recorder;
  arena a;
  checked_registry reg("test");
  void* p = a.block(0);
  void* q = a.block(1);
  reg.on_allocate(p, 24, 8, 32);
  checked_registry::free_result r;
  reg.on_deallocate(q, 24, 8, r);
  EXPECT_FALSE(r.accepted);
  reg.on_deallocate(p, 16, 8, r);
  EXPECT_FALSE(r.accepted);
  reg.on_deallocate(p, 24, 16, r);
  EXPECT_FALSE(r.accepted);
  reg.on_deallocate(p, 24, 8, r);
  EXPECT_TRUE(r.accepted);
  reg.on_deallocate(p, 24, 8, r);
  EXPECT_FALSE(r.accepted);
  ASSERT_EQ(recorder.reports().size(), 4u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(recorder.reports()[1].kind, invalid_free_kind::size_mismatch);
  EXPECT_EQ(recorder.reports()[2].kind, invalid_free_kind::size_mismatch);
  EXPECT_EQ(recorder.reports()[3].kind, invalid_free_kind::double_free);
  EXPECT_EQ(recorder.reports()[3].resource, "test");
}

// Defect 5: only quarantined addresses are remembered as freed, however many frees were made.
TEST(CheckedRegistry, RemembersOnlyLiveAndQuarantinedBlocks) {
  arena a;
  checked_registry reg("test");
  constexpr std::size_t kBlocks = 100000;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    reg.prepare();
    reg.on_allocate(a.block(i), 24, 8, 32);
  }
  EXPECT_EQ(reg.remembered(), kBlocks);
  std::size_t evicted = 0;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    checked_registry::free_result r;
    reg.on_deallocate(a.block(i), 24, 8, r);
    ASSERT_TRUE(r.accepted);
    evicted += r.evicted_count;
  }
  EXPECT_LE(reg.remembered(), checked_registry::kShards * checked_registry::kQuarantineBlocks);
  EXPECT_EQ(reg.remembered() + evicted, kBlocks);
}

// The canary and the fill on their own (the resources' tests check them through each resource).
TEST(CheckedRegistry, ReportsAnOverflowAtFreeAndAWriteAfterFreeWhenTheBlockLeavesQuarantine) {
  invalid_free_recorder recorder;
  arena a;
  checked_registry reg("test");
  auto* p = static_cast<unsigned char*>(a.block(0));
  reg.on_allocate(p, 24, 8, 32);
  p[24] ^= 0xff;  // the canary's first byte
  checked_registry::free_result r;
  reg.on_deallocate(p, 24, 8, r);
  EXPECT_TRUE(r.accepted);  // reported, then carried out
  ASSERT_EQ(recorder.reports().size(), 1u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::overflow);
  p[23] = 1;  // into the freed (quarantined) block
  std::size_t evicted = 0;
  reg.flush([&](const checked_block& b) {
    EXPECT_EQ(b.p, p);
    ++evicted;
  });
  EXPECT_EQ(evicted, 1u);
  ASSERT_EQ(recorder.reports().size(), 2u);
  EXPECT_EQ(recorder.reports()[1].kind, invalid_free_kind::write_after_free);
  EXPECT_EQ(reg.remembered(), 0u);
}

// A block of 1 MiB or more keeps its size in its window (the word has 20 bits for it).
TEST(CheckedRegistry, KeepsTheExactSizeOfLargeBlocks) {
  invalid_free_recorder recorder;
  constexpr std::size_t kBig = (std::size_t(3) << 20) + 40;
  std::vector<std::byte> big(kBig + 64);
  void* p = big.data() + (64 - reinterpret_cast<std::uintptr_t>(big.data()) % 64) % 64;
  checked_registry reg("test");
  reg.on_allocate(p, kBig, 64, kBig + 8);
  checked_registry::free_result r;
  reg.on_deallocate(p, kBig - 8, 64, r);
  EXPECT_FALSE(r.accepted);
  reg.on_deallocate(p, kBig, 64, r);
  EXPECT_TRUE(r.accepted);
  ASSERT_EQ(recorder.reports().size(), 1u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::size_mismatch);
  reg.flush([](const checked_block&) {});
}

// Two threads free one block at once: the word's compare-and-swap lets exactly one of them in.
TEST(CheckedRegistry, OfTwoFreesOfOneBlockExactlyOneIsAccepted) {
  invalid_free_recorder recorder;
  arena a;
  checked_registry reg("test");
  constexpr int kRounds = 200;
  int accepted = 0;
  for (int i = 0; i < kRounds; ++i) {
    void* p = a.block(std::size_t(i));
    reg.on_allocate(p, 24, 8, 32);
    std::atomic<bool> go{false};
    checked_registry::free_result r1;
    checked_registry::free_result r2;
    std::thread t([&] {
      while (!go.load(std::memory_order_acquire)) {
      }
      reg.on_deallocate(p, 24, 8, r2);
    });
    go.store(true, std::memory_order_release);
    reg.on_deallocate(p, 24, 8, r1);
    t.join();
    EXPECT_NE(r1.accepted, r2.accepted);
    accepted += int(r1.accepted) + int(r2.accepted);
  }
  EXPECT_EQ(accepted, kRounds);
  EXPECT_EQ(recorder.reports().size(), std::size_t(kRounds));
  for (const auto& report : recorder.reports()) EXPECT_EQ(report.kind, invalid_free_kind::double_free);
  reg.flush([](const checked_block&) {});
}

}  // namespace
}  // namespace allocbench::detail
