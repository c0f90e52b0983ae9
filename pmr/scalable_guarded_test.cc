// scalable_resource with sampled guard pages (guarded_sample_rate): what a guarded block looks like,
// the faults it catches (death tests), the sampling rate, frees from other threads, quarantine and
// unmapping, and the layout knob.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "allocator/guarded_pages.h"
#include "pmr/config_error.h"
#include "pmr/presets.h"
#include "pmr/scalable_resource.h"
#include "pmr/testing/invalid_free_recorder.h"

namespace allocbench {
namespace {

// Under AddressSanitizer and ThreadSanitizer the sanitizer owns SIGSEGV (its handler reports the
// fault its own way and our chained report may not come first), so the death tests that expect our
// handler's report are skipped there; they run in plain and ubsan builds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerOwnsSegv = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitizerOwnsSegv = true;
#else
constexpr bool kSanitizerOwnsSegv = false;
#endif
#else
constexpr bool kSanitizerOwnsSegv = false;
#endif

scalable_options sampled(std::size_t rate) {
  scalable_options o;
  o.checked = false;
  o.guarded_sample_rate = rate;
  return o;
}

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }
std::uintptr_t page_size() { return std::uintptr_t(sysconf(_SC_PAGESIZE)); }

// The permissions ("rw-p", "---p") of the mapping holding p in /proc/self/maps; "" when none does.
std::string mapping_of(const void* p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    const auto dash = range.find('-');
    const std::uintptr_t lo = std::stoull(range.substr(0, dash), nullptr, 16);
    const std::uintptr_t hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (address(p) >= lo && address(p) < hi) return perms;
  }
  return "";
}

TEST(ScalableGuarded, OffByDefaultAndNothingGuarded) {
  scalable_resource r(sampled(0));
  std::vector<void*> blocks;
  for (int i = 0; i < 5000; ++i) blocks.push_back(r.allocate(64, 16));
  for (void* p : blocks) r.deallocate(p, 64, 16);
  EXPECT_EQ(scalable_options{}.guarded_sample_rate, 0u);
  EXPECT_EQ(r.guarded_count(), 0u);
  EXPECT_EQ(r.guarded_mappings(), 0u);
}

TEST(ScalableGuarded, BlockEndsAtAnInaccessiblePageAndKeepsItsAlignment) {
  scalable_resource r(sampled(1));
  void* p = r.allocate(64, 16);
  ASSERT_EQ(r.guarded_count(), 1u);
  EXPECT_EQ((address(p) + 64) % page_size(), 0u);
  EXPECT_EQ(mapping_of(p), "rw-p");
  EXPECT_EQ(mapping_of(static_cast<char*>(p) + 64), "---p");
  // 13 bytes at alignment 8: the start is aligned, the end at most 7 bytes short of the page.
  void* q = r.allocate(13, 8);
  ASSERT_EQ(r.guarded_count(), 2u);
  EXPECT_EQ(address(q) % 8, 0u);
  const std::uintptr_t gap = page_size() - (address(q) + 13) % page_size();
  EXPECT_LT(gap, 8u);
  std::memset(p, 0xab, 64);
  std::memset(q, 0xcd, 13);
  r.deallocate(q, 13, 8);
  r.deallocate(p, 64, 16);
  EXPECT_EQ(mapping_of(p), "---p");  // quarantined: inaccessible
}

TEST(ScalableGuarded, StatisticsCountGuardedBlocks) {
  scalable_resource r(sampled(1));
  void* p = r.allocate(100, 8);
  resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 1u);
  EXPECT_EQ(s.live_requested_bytes, 100u);
  EXPECT_GT(s.live_bytes, 0u);
  r.deallocate(p, 100, 8);
  s = r.stats();
  EXPECT_EQ(s.allocations, s.deallocations);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.live_requested_bytes, 0u);
}

TEST(ScalableGuardedDeathTest, OverflowOneBytePastTheBlockIsReported) {
  if (kSanitizerOwnsSegv) GTEST_SKIP() << "the sanitizer owns SIGSEGV in this build";
  EXPECT_EXIT(
      {
        scalable_resource r(sampled(1));
        // Through an integer, so that UBSan's object-size check (which sees the 64-byte block)
        // does not report the deliberate overflow before it reaches the guard page.
        volatile std::uintptr_t past_end = address(r.allocate(64, 16)) + 64;
        *reinterpret_cast<volatile char*>(past_end) = 1;
      },
      ::testing::KilledBySignal(SIGSEGV),
      "heap-buffer-overflow at 0x[0-9a-f]+, 0 bytes past the end of block 0x[0-9a-f]+ of 64 bytes "
      "\\(resource scalable\\)");
}

TEST(ScalableGuardedDeathTest, UseAfterFreeIsReported) {
  if (kSanitizerOwnsSegv) GTEST_SKIP() << "the sanitizer owns SIGSEGV in this build";
  EXPECT_EXIT(
      {
        scalable_resource r(sampled(1));
        void* block = r.allocate(64, 16);
        r.deallocate(block, 64, 16);
        volatile char c = static_cast<volatile char*>(block)[8];
        (void)c;
      },
      ::testing::KilledBySignal(SIGSEGV),
      "heap-use-after-free at 0x[0-9a-f]+, offset 8 in freed block 0x[0-9a-f]+ of 64 bytes "
      "\\(resource scalable\\)");
}

// A fault that is not in a guarded block still goes to the previous disposition (here the default:
// death by SIGSEGV) without our report.
TEST(ScalableGuardedDeathTest, OtherFaultsChainToThePreviousHandler) {
  if (kSanitizerOwnsSegv) GTEST_SKIP() << "the sanitizer owns SIGSEGV in this build";
  EXPECT_EXIT(
      {
        scalable_resource r(sampled(1));
        r.deallocate(r.allocate(64, 16), 64, 16);
        volatile std::uintptr_t wild = 16;  // volatile: not a constant the compiler can see through
        *reinterpret_cast<volatile char*>(wild) = 1;
      },
      ::testing::KilledBySignal(SIGSEGV), "^$");
}

// A live-set workload like rl_small's (sizes 16..512, allocate with probability 0.65, up to 4096
// live): about one allocation in N is guarded.
TEST(ScalableGuarded, AboutOneAllocationInNIsGuarded) {
  for (std::size_t rate : {50u, 400u}) {
    scalable_resource r(sampled(rate));
    std::mt19937_64 rng(7);
    const std::size_t sizes[] = {16, 32, 64, 128, 256, 512};
    struct live { void* p; std::size_t bytes; };
    std::vector<live> blocks;
    std::size_t allocations = 0;
    for (int op = 0; op < 300000; ++op) {
      const bool alloc = blocks.empty() || (blocks.size() < 4096 && rng() % 100 < 65);
      if (alloc) {
        const std::size_t bytes = sizes[rng() % 6];
        void* p = r.allocate(bytes, 8);
        static_cast<char*>(p)[bytes - 1] = 1;
        blocks.push_back({p, bytes});
        ++allocations;
      } else {
        const std::size_t i = rng() % blocks.size();
        r.deallocate(blocks[i].p, blocks[i].bytes, 8);
        blocks[i] = blocks.back();
        blocks.pop_back();
      }
    }
    for (const live& b : blocks) r.deallocate(b.p, b.bytes, 8);
    const double expected = double(allocations) / double(rate);
    EXPECT_GT(double(r.guarded_count()), 0.7 * expected) << "rate " << rate;
    EXPECT_LT(double(r.guarded_count()), 1.3 * expected) << "rate " << rate;
    const resource_stats s = r.stats();
    EXPECT_EQ(s.allocations, allocations);
    EXPECT_EQ(s.deallocations, allocations);
    EXPECT_EQ(s.live_bytes, 0u);
  }
}

// The fast path counts every allocation it serves, so a thread's every N-th allocation is guarded,
// exactly, whether its blocks come from a warm cache or from refills, and whether or not it frees
// in between (counted only on refills and frees, a thread that only allocates met its samples up
// to a batch late).
TEST(ScalableGuarded, EveryNthAllocationOfAThreadIsGuarded) {
  constexpr std::size_t kRate = 7;
  scalable_resource r(sampled(kRate));
  std::vector<void*> blocks;
  for (std::size_t i = 1; i <= 50 * kRate; ++i) {
    blocks.push_back(r.allocate(64, 16));
    ASSERT_EQ(r.guarded_count(), i / kRate) << "after allocation " << i;
  }
  for (void* p : blocks) r.deallocate(p, 64, 16);
  blocks.clear();
  // The cache is warm now: the same on its fast path, with frees in between.
  const std::size_t before = r.guarded_count();
  for (std::size_t i = 1; i <= 50 * kRate; ++i) {
    void* p = r.allocate(64, 16);
    ASSERT_EQ(r.guarded_count() - before, i / kRate) << "after allocation " << i << " of the warm run";
    if (i % 3 == 0) {
      r.deallocate(p, 64, 16);
    } else {
      blocks.push_back(p);
    }
  }
  for (void* p : blocks) r.deallocate(p, 64, 16);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, s.deallocations);
  EXPECT_EQ(s.live_bytes, 0u);
}

// Checked mode with sampling: a guarded block of an odd size with alignment 1 would end flush at its
// guard page at an odd address, which checked mode's index (one word per 8-byte granule) cannot
// record, so its free was reported as a foreign pointer. Every allocation is sampled here.
TEST(ScalableGuarded, CheckedModeFreesOddSizedGuardedBlocks) {
  testing::throwing_invalid_free_handler throwing;
  scalable_options o = sampled(1);
  o.checked = true;
  scalable_resource r(o);
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t bytes : {1u, 7u, 63u, 1095u, 2047u}) {
    void* p = r.allocate(bytes, 1);
    std::memset(p, 0x5a, bytes);
    blocks.emplace_back(p, bytes);
  }
  EXPECT_EQ(r.guarded_count(), blocks.size());
  for (auto [p, bytes] : blocks) EXPECT_NO_THROW(r.deallocate(p, bytes, 1)) << bytes << " bytes";
  r.flush_quarantine();
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, s.deallocations);
  EXPECT_EQ(s.live_bytes, 0u);
}

// Frees by the allocating thread between samples would take the fast path: a guarded block must
// still reach its slot (and quarantine), never the thread's cache.
TEST(ScalableGuarded, FreesOnTheAllocatingThreadReachTheGuardSlots) {
  scalable_resource r(sampled(3));
  std::vector<void*> blocks;
  for (int i = 0; i < 600; ++i) blocks.push_back(r.allocate(64, 16));
  ASSERT_GT(r.guarded_count(), std::size_t(detail::guarded_pages::kQuarantine));
  for (void* p : blocks) r.deallocate(p, 64, 16);
  // Every guarded block was freed into quarantine, which holds at most kQuarantine of them.
  EXPECT_EQ(r.guarded_mappings(), detail::guarded_pages::kQuarantine);
  // And no guarded block came back from the cache as an ordinary one.
  for (int i = 0; i < 600; ++i) {
    void* p = r.allocate(64, 16);
    EXPECT_NE(mapping_of(p), "---p");
    std::memset(p, 1, 64);
    blocks[std::size_t(i)] = p;
  }
  for (void* p : blocks) r.deallocate(p, 64, 16);
}

TEST(ScalableGuarded, FreesFromAnotherThread) {
  scalable_resource r(sampled(1));
  std::vector<void*> blocks;
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) blocks.push_back(r.allocate(256, 16));
  });
  producer.join();
  ASSERT_EQ(r.guarded_count(), 100u);
  EXPECT_EQ(r.guarded_mappings(), 100u);
  std::thread consumer([&] {
    for (void* p : blocks) r.deallocate(p, 256, 16);
  });
  consumer.join();
  EXPECT_EQ(r.guarded_mappings(), detail::guarded_pages::kQuarantine);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 100u);
  EXPECT_EQ(s.deallocations, 100u);
  EXPECT_EQ(s.live_bytes, 0u);
}

TEST(ScalableGuarded, ReleaseAndDestructorUnmapEveryGuardedPage) {
  std::vector<void*> blocks;
  void* first = nullptr;
  {
    scalable_resource r(sampled(1));
    for (int i = 0; i < 10; ++i) blocks.push_back(r.allocate(64, 16));
    for (int i = 0; i < 5; ++i) r.deallocate(blocks[std::size_t(i)], 64, 16);
    EXPECT_EQ(r.guarded_mappings(), 10u);
    EXPECT_EQ(mapping_of(blocks[9]), "rw-p");
    r.release();
    EXPECT_EQ(r.guarded_mappings(), 0u);
    EXPECT_EQ(mapping_of(blocks[9]), "---p");  // the reservation stays, its pages are gone
    const resource_stats s = r.stats();
    EXPECT_EQ(s.allocations, s.deallocations);
    // Usable again after release().
    first = r.allocate(64, 16);
    EXPECT_EQ(r.guarded_mappings(), 1u);
    EXPECT_EQ(mapping_of(first), "rw-p");
  }
  EXPECT_EQ(mapping_of(first), "");
  EXPECT_EQ(mapping_of(blocks[0]), "");
}

TEST(ScalableGuarded, LayoutKnobAndPreset) {
  auto r = build_resource(
      nlohmann::json::parse(R"({"name": "g", "resource": {"type": "scalable", "guarded_sample_rate": 1}})"),
      "inline.json", std::pmr::new_delete_resource());
  auto* s = dynamic_cast<scalable_resource*>(r.get());
  ASSERT_NE(s, nullptr);
  s->deallocate(s->allocate(64, 16), 64, 16);
  EXPECT_EQ(s->guarded_count(), 1u);

  auto preset = make_preset("scalable_guarded");
  auto* g = dynamic_cast<scalable_resource*>(preset.get());
  ASSERT_NE(g, nullptr);
  std::vector<void*> blocks;
  for (int i = 0; i < 20000; ++i) blocks.push_back(g->allocate(64, 16));
  for (void* p : blocks) g->deallocate(p, 64, 16);
  EXPECT_GE(g->guarded_count(), 10u);
  EXPECT_LE(g->guarded_count(), 30u);

  try {
    build_resource(nlohmann::json::parse(
                       R"({"name": "g", "resource": {"type": "scalable", "guarded_sample_rate": 8589934592}})"),
                   "inline.json", std::pmr::new_delete_resource());
    FAIL() << "a rate above 2^32 was accepted";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("guarded_sample_rate"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace allocbench
