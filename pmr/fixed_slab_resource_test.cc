#include "pmr/fixed_slab_resource.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <future>
#include <latch>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "allocator/invalid_free.h"
#include "pmr/testing/allocation_script.h"
#include "pmr/testing/contract_checks.h"
#include "pmr/testing/cross_thread_ring.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/model_checker.h"
#include "pmr/testing/option_checks.h"
#include "pmr/testing/single_threaded_upstream.h"
#include "pmr/testing/stats_expectations.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::expect_same_counts;
using testing::invalid_free_recorder;
using testing::model_checker;
using testing::model_options;
using testing::single_threaded_upstream;
using testing::test_upstream;
using testing::throwing_invalid_free_handler;

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();

// A small slab: 64-byte blocks, 16 per chunk, so that tests cross chunk boundaries quickly.
fixed_slab_options small_slab(std::size_t cache_entries = 0) {
  fixed_slab_options o;
  o.block_size = 64;
  o.chunk_bytes = 64 * 16;
  o.thread_cache_entries = cache_entries;
  // The engine's reuse is tested unchecked, whatever the build's default: checked mode holds freed
  // blocks in quarantine before reuse, and has tests of its own below.
  o.checked = false;
  return o;
}

// ---------------------------------------------------------------------------------------------------
// Sizes and alignments

TEST(FixedSlabResource, ServesEverySizeUpToTheBlockSize) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  for (std::size_t bytes : {std::size_t(1), std::size_t(63), std::size_t(64)}) {
    void* p = r.allocate(bytes, 1);
    std::memset(p, 0xab, bytes);  // the whole request is writable (asan checks the chunk bounds)
    r.deallocate(p, bytes, 1);
  }
}

TEST(FixedSlabResource, OneByteOverTheBlockSizeThrowsBadAllocAndChangesNothing) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  void* keep = r.allocate(64, 1);
  const resource_stats before = r.stats();
  EXPECT_THROW((void)r.allocate(65, 1), std::bad_alloc);
  expect_same_counts(before, r.stats());
  EXPECT_EQ(up.allocate_calls(), 1u);
  r.deallocate(keep, 64, 1);
}

TEST(FixedSlabResource, SizesNearSizeMaxThrowBadAllocAndChangeNothing) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  testing::expect_impossible_sizes_rejected(r, up, {kSizeMax, kSizeMax - 1, kSizeMax - 63, kSizeMax / 2 + 1}, {1, 64});
}

TEST(FixedSlabResource, AllocateZeroGivesDistinctUsablePointers) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  void* a = r.allocate(0, 1);
  void* b = r.allocate(0, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(r.stats().live_blocks, 2u);
  EXPECT_EQ(r.stats().live_usable_bytes, 128u);  // each takes a whole block
  r.deallocate(a, 0, 1);
  r.deallocate(b, 0, 1);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

TEST(FixedSlabResource, BlockAlignmentIsTheLargestPowerOfTwoDividingTheStride) {
  test_upstream up;
  auto alignment_for = [&](std::size_t block_size) {
    fixed_slab_options o;
    o.block_size = block_size;
    o.chunk_bytes = 64 * 1024;
    return fixed_slab_resource(o, &up).block_alignment();
  };
  EXPECT_EQ(alignment_for(1), 8u);     // stride 8: a free-list link
  EXPECT_EQ(alignment_for(8), 8u);
  EXPECT_EQ(alignment_for(24), 8u);
  EXPECT_EQ(alignment_for(48), 16u);
  EXPECT_EQ(alignment_for(64), 64u);
  EXPECT_EQ(alignment_for(100), 8u);   // stride 104
  EXPECT_EQ(alignment_for(4096), 4096u);
  EXPECT_EQ(alignment_for(8192), 4096u);  // capped
}

TEST(FixedSlabResource, AlignmentUpToTheBlockAlignmentIsHonouredAndOneMoreThrowsBadAlloc) {
  for (std::size_t block_size : {std::size_t(48), std::size_t(64), std::size_t(100), std::size_t(4096),
                                 std::size_t(8192)}) {
    test_upstream up;
    fixed_slab_options o;
    o.block_size = block_size;
    o.chunk_bytes = 4 * ((block_size + 7) / 8 * 8);
    fixed_slab_resource r(o, &up);
    const std::size_t max_alignment = r.block_alignment();
    // Several blocks per alignment, so that blocks past the first of a chunk are checked too.
    for (std::size_t alignment = 1; alignment <= max_alignment; alignment *= 2) {
      std::vector<void*> blocks;
      for (int i = 0; i < 6; ++i) {
        void* p = r.allocate(block_size, alignment);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u)
            << "block_size " << block_size << ", alignment " << alignment;
        blocks.push_back(p);
      }
      for (void* p : blocks) r.deallocate(p, block_size, alignment);
    }
    const resource_stats before = r.stats();
    EXPECT_THROW((void)r.allocate(1, max_alignment * 2), std::bad_alloc) << "block_size " << block_size;
    expect_same_counts(before, r.stats());
  }
}

TEST(FixedSlabResource, FitsAgreesWithWhatAllocateServes) {
  test_upstream up;
  fixed_slab_options o;
  o.block_size = 100;  // stride 104, block alignment 8
  o.chunk_bytes = 1040;
  fixed_slab_resource r(o, &up);
  EXPECT_TRUE(r.fits(100, 8));
  EXPECT_TRUE(r.fits(0, 1));
  EXPECT_FALSE(r.fits(101, 1));
  EXPECT_FALSE(r.fits(8, 16));
  r.deallocate(r.allocate(100, 8), 100, 8);
  EXPECT_THROW((void)r.allocate(101, 1), std::bad_alloc);
  EXPECT_THROW((void)r.allocate(8, 16), std::bad_alloc);
}

TEST(FixedSlabResource, NonPowerOfTwoAlignmentThrowsInvalidArgumentAndChangesNothing) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  testing::expect_bad_alignments_rejected(r, up, {8}, {0, 3, 6, 24, 48, kSizeMax});
}

TEST(FixedSlabResource, IsEqualIsIdentity) {
  test_upstream up;
  fixed_slab_resource a(small_slab(), &up);
  fixed_slab_resource b(small_slab(), &up);
  testing::expect_is_equal_is_identity(a, b, up);
}

TEST(FixedSlabResource, KindAndAccessorsReportTheConfiguration) {
  test_upstream up;
  fixed_slab_options o = small_slab(32);
  fixed_slab_resource r(o, &up);
  EXPECT_EQ(r.kind(), "fixed_slab");
  EXPECT_EQ(r.block_size(), 64u);
  EXPECT_EQ(r.blocks_per_chunk(), 16u);
  EXPECT_EQ(r.thread_cache_entries(), 32u);
  fixed_slab_resource plain(small_slab(0), &up);
  EXPECT_EQ(plain.thread_cache_entries(), 0u);
}

// ---------------------------------------------------------------------------------------------------
// Upstream traffic, release and destruction

TEST(FixedSlabResource, TakesOneChunkPerBlocksPerChunkAllocations) {
  test_upstream up;
  fixed_slab_options o;
  o.block_size = 100;  // stride 104: 10 blocks in 1040 bytes
  o.chunk_bytes = 1040;
  fixed_slab_resource r(o, &up);
  ASSERT_EQ(r.blocks_per_chunk(), 10u);
  std::vector<std::byte*> blocks;
  for (int i = 0; i < 10; ++i) blocks.push_back(static_cast<std::byte*>(r.allocate(100, 8)));
  EXPECT_EQ(up.allocate_calls(), 1u);
  blocks.push_back(static_cast<std::byte*>(r.allocate(100, 8)));
  EXPECT_EQ(up.allocate_calls(), 2u);
  EXPECT_EQ(up.outstanding_bytes(), 2 * 1040u);
  // No two blocks overlap: each is a full 100 bytes apart from every other.
  std::set<std::byte*> sorted(blocks.begin(), blocks.end());
  ASSERT_EQ(sorted.size(), blocks.size());
  for (auto it = sorted.begin(); std::next(it) != sorted.end(); ++it) {
    EXPECT_GE(*std::next(it) - *it, 100);
  }
  for (std::byte* p : blocks) r.deallocate(p, 100, 8);
}

TEST(FixedSlabResource, FreedBlocksAreReusedBeforeAskingUpstreamAgain) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  std::vector<void*> blocks;
  for (int i = 0; i < 16; ++i) blocks.push_back(r.allocate(64, 8));
  for (void* p : blocks) r.deallocate(p, 64, 8);
  std::set<void*> first(blocks.begin(), blocks.end());
  blocks.clear();
  for (int i = 0; i < 16; ++i) blocks.push_back(r.allocate(64, 8));
  EXPECT_EQ(up.allocate_calls(), 1u);
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()), first);
  // Nothing goes back upstream before release.
  for (void* p : blocks) r.deallocate(p, 64, 8);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
}

TEST(FixedSlabResource, ReleaseGivesEveryChunkBackAndTheResourceStaysUsable) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(8)}) {
    test_upstream up;
    fixed_slab_resource r(small_slab(cache_entries), &up);
    for (int i = 0; i < 40; ++i) (void)r.allocate(64, 8);  // three chunks, never freed
    EXPECT_EQ(up.outstanding_blocks(), 3u);
    // Nothing stale (a cached block of a freed chunk) may be handed out afterwards.
    testing::expect_release_returns_everything(r, up, 40, 64);
  }
}

TEST(FixedSlabResource, DestructorGivesEveryChunkBack) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(8)}) {
    test_upstream up;
    {
      fixed_slab_resource r(small_slab(cache_entries), &up);
      for (int i = 0; i < 20; ++i) (void)r.allocate(64, 8);
      void* p = r.allocate(10, 1);
      r.deallocate(p, 10, 1);  // one in a cache or the free list, the rest live
      EXPECT_EQ(up.outstanding_blocks(), 2u);
    }
    EXPECT_EQ(up.outstanding_blocks(), 0u);
  }
}

// ---------------------------------------------------------------------------------------------------
// Options

std::string construction_error(const fixed_slab_options& o, std::pmr::memory_resource* upstream) {
  return testing::construction_error<fixed_slab_resource>(o, upstream);
}

TEST(FixedSlabResource, InvalidOptionsThrowInvalidArgumentNamingTheOption) {
  test_upstream up;
  auto with = [](auto change) {
    fixed_slab_options o;
    change(o);
    return o;
  };
  const testing::bad_option<fixed_slab_options> cases[] = {
      {with([](auto& o) { o.block_size = 0; }), "block_size"},
      {with([](auto& o) { o.block_size = (std::size_t(1) << 30) + 1; }), "block_size"},
      {with([](auto& o) { o.block_size = kSizeMax; }), "block_size"},
      {with([](auto& o) { o.block_size = 100, o.chunk_bytes = 103; }), "chunk_bytes"},  // < stride 104
      {with([](auto& o) { o.chunk_bytes = 0; }), "chunk_bytes"},
      {with([](auto& o) { o.chunk_bytes = (std::size_t(1) << 30) + 1; }), "chunk_bytes"},
      {with([](auto& o) { o.thread_cache_entries = fixed_slab_resource::kMaxThreadCacheEntries + 1; }),
       "thread_cache_entries"},
      {with([](auto& o) { o.thread_cache_entries = kSizeMax; }), "thread_cache_entries"},
  };
  testing::expect_bad_options_named<fixed_slab_resource, fixed_slab_options>(cases, up);
}

TEST(FixedSlabResource, OptionsAtTheirLimitsAreAccepted) {
  test_upstream up;
  fixed_slab_options o;
  o.block_size = 100;
  o.chunk_bytes = 104;  // exactly one stride: one block per chunk
  o.thread_cache_entries = fixed_slab_resource::kMaxThreadCacheEntries;
  fixed_slab_resource r(o, &up);
  EXPECT_EQ(r.blocks_per_chunk(), 1u);
  void* a = r.allocate(100, 8);
  void* b = r.allocate(100, 8);
  EXPECT_NE(a, b);
  r.deallocate(a, 100, 8);
  r.deallocate(b, 100, 8);
  fixed_slab_options one;
  one.block_size = 1;
  one.chunk_bytes = 8;
  EXPECT_EQ(construction_error(one, &up), "");
}

// ---------------------------------------------------------------------------------------------------
// Statistics

TEST(FixedSlabResource, StatsCountRequestedAndUsableBytes) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  void* a = r.allocate(10, 1);
  void* b = r.allocate(64, 8);
  void* c = r.allocate(0, 1);
  resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 3u);
  EXPECT_EQ(s.deallocations, 0u);
  EXPECT_EQ(s.live_blocks, 3u);
  EXPECT_EQ(s.live_requested_bytes, 74u);
  EXPECT_EQ(s.live_usable_bytes, 3 * 64u);  // usable = the block size, whatever was asked
  EXPECT_EQ(s.live_bytes, 3 * 64u);
  EXPECT_EQ(s.peak_live_bytes, 3 * 64u);
  EXPECT_EQ(s.total_requested_bytes, 74u);
  EXPECT_EQ(s.total_usable_bytes, 3 * 64u);
  EXPECT_EQ(s.bytes_held, 1024u);
  EXPECT_EQ(s.peak_bytes_held, 1024u);
  EXPECT_DOUBLE_EQ(s.overhead_ratio(), 192.0 / 74.0);

  r.deallocate(a, 10, 1);
  r.deallocate(c, 0, 1);
  s = r.stats();
  EXPECT_EQ(s.deallocations, 2u);
  EXPECT_EQ(s.live_blocks, 1u);
  EXPECT_EQ(s.live_requested_bytes, 64u);
  EXPECT_EQ(s.live_usable_bytes, 64u);
  EXPECT_EQ(s.peak_live_bytes, 3 * 64u);   // the high-water mark stays
  EXPECT_EQ(s.total_requested_bytes, 74u);  // totals never go down
  EXPECT_EQ(s.bytes_held, 1024u);            // nothing returned before release

  r.deallocate(b, 64, 8);
  s = r.stats();
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.peak_live_bytes, 3 * 64u);
}

TEST(FixedSlabResource, StatsHaveOneClassNamedAfterTheBlockSize) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  std::vector<void*> blocks;
  for (int i = 0; i < 17; ++i) blocks.push_back(r.allocate(32, 8));  // two chunks
  r.deallocate(blocks.back(), 32, 8);
  blocks.pop_back();
  const resource_stats s = r.stats();
  ASSERT_EQ(s.classes.size(), 1u);
  const class_stats& c = s.classes[0];
  EXPECT_EQ(c.name, "64");
  EXPECT_EQ(c.block_size, 64u);
  EXPECT_EQ(c.allocations, 17u);
  EXPECT_EQ(c.deallocations, 1u);
  EXPECT_EQ(c.live_blocks, 16u);
  EXPECT_EQ(c.bytes_held, 2 * 1024u);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
  for (void* p : blocks) r.deallocate(p, 32, 8);
}

TEST(FixedSlabResource, PeakLiveBytesIsTheHighWaterMark) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  std::vector<void*> blocks;
  for (int round = 1; round <= 3; ++round) {
    // Rounds of 5, 2, 7 live blocks: the peak follows the largest so far.
    const int live = round == 1 ? 5 : round == 2 ? 2 : 7;
    for (int i = 0; i < live; ++i) blocks.push_back(r.allocate(1, 1));
    const std::uint64_t expected_peak = (round == 3 ? 7 : 5) * 64;
    EXPECT_EQ(r.stats().peak_live_bytes, expected_peak) << "round " << round;
    for (void* p : blocks) r.deallocate(p, 1, 1);
    blocks.clear();
  }
}

TEST(FixedSlabResource, PeakLiveBytesIsExactOnOneThreadPastThePublishingThreshold) {
  test_upstream up;
  fixed_slab_options o;
  o.block_size = 4096;
  o.chunk_bytes = 4096 * 64;
  fixed_slab_resource r(o, &up);
  testing::expect_exact_peak_on_one_thread(r);
}

// ---------------------------------------------------------------------------------------------------
// Thread caches

TEST(FixedSlabResource, ThreadCachedBlocksReturnToTheSharedPoolWhenTheThreadExits) {
  test_upstream up;
  fixed_slab_resource r(small_slab(8), &up);  // 16 blocks per chunk, 8 per thread cache
  std::thread worker([&] {
    std::vector<void*> blocks;
    for (int i = 0; i < 8; ++i) blocks.push_back(r.allocate(64, 8));
    for (void* p : blocks) r.deallocate(p, 64, 8);  // all 8 now sit in this thread's cache
  });
  worker.join();
  ASSERT_EQ(up.allocate_calls(), 1u);
  // All 16 blocks of the one chunk must be reachable from this thread now; had the exited thread's
  // cache been lost, the last 8 would need a second chunk.
  std::vector<void*> blocks;
  for (int i = 0; i < 16; ++i) blocks.push_back(r.allocate(64, 8));
  EXPECT_EQ(up.allocate_calls(), 1u);
  EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), 16u);
  for (void* p : blocks) r.deallocate(p, 64, 8);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

TEST(FixedSlabResource, AnExitingThreadFlushesItsCachesOfEverySlabItUsed) {
  test_upstream up;
  fixed_slab_resource a(small_slab(8), &up);
  fixed_slab_resource b(small_slab(8), &up);
  std::thread worker([&] {
    for (fixed_slab_resource* r : {&a, &b}) {
      std::vector<void*> blocks;
      for (int i = 0; i < 8; ++i) blocks.push_back(r->allocate(64, 8));
      for (void* p : blocks) r->deallocate(p, 64, 8);
    }
  });
  worker.join();
  ASSERT_EQ(up.allocate_calls(), 2u);
  // Each slab's single chunk is whole again.
  for (fixed_slab_resource* r : {&a, &b}) {
    std::vector<void*> blocks;
    for (int i = 0; i < 16; ++i) blocks.push_back(r->allocate(64, 8));
    for (void* p : blocks) r->deallocate(p, 64, 8);
  }
  EXPECT_EQ(up.allocate_calls(), 2u);
}

TEST(FixedSlabResource, SlabsBeyondTheThreadCacheSlotsStillServeEveryThread) {
  // The cache registry has a fixed number of slots (allocator/thread_cache_registry.h); instances past
  // it get no caches and must fall back to the shared pool, including for blocks freed on exit.
  test_upstream up;
  constexpr int kSlabs = 300;
  std::vector<std::unique_ptr<fixed_slab_resource>> slabs;
  for (int i = 0; i < kSlabs; ++i) slabs.push_back(std::make_unique<fixed_slab_resource>(small_slab(4), &up));
  std::thread worker([&] {
    for (auto& r : slabs) {
      void* p = r->allocate(64, 8);
      void* q = r->allocate(64, 8);
      EXPECT_NE(p, q);
      r->deallocate(p, 64, 8);
      r->deallocate(q, 64, 8);
    }
  });
  worker.join();
  EXPECT_EQ(up.allocate_calls(), std::size_t(kSlabs));
  for (auto& r : slabs) {
    std::vector<void*> blocks;
    for (int i = 0; i < 16; ++i) blocks.push_back(r->allocate(64, 8));
    for (void* p : blocks) r->deallocate(p, 64, 8);
    const resource_stats s = r->stats();
    EXPECT_EQ(s.allocations, 18u);
    EXPECT_EQ(s.live_blocks, 0u);
  }
  EXPECT_EQ(up.allocate_calls(), std::size_t(kSlabs));  // every slab's blocks all came back
  slabs.clear();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(FixedSlabResource, ABlockFreedOnAnotherThreadIsReusedThere) {
  test_upstream up;
  fixed_slab_resource r(small_slab(8), &up);
  void* p = r.allocate(64, 8);
  std::thread other([&] {
    r.deallocate(p, 64, 8);
    void* q = r.allocate(64, 8);
    EXPECT_EQ(q, p);  // the freeing thread's cache hands its most recent block out first
    r.deallocate(q, 64, 8);
  });
  other.join();
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.deallocations, 2u);
  EXPECT_EQ(s.live_blocks, 0u);
}

TEST(FixedSlabResource, DestroyingItWhileAnotherThreadHoldsACacheReturnsEverything) {
  test_upstream up;
  auto r = std::make_unique<fixed_slab_resource>(small_slab(8), &up);
  std::promise<void> cached, destroyed;
  std::thread worker([&] {
    void* p = r->allocate(64, 8);
    r->deallocate(p, 64, 8);
    cached.set_value();
    destroyed.get_future().wait();
    // Exiting now must not touch the destroyed resource (asan would see a use after free).
  });
  cached.get_future().wait();
  r.reset();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  destroyed.set_value();
  worker.join();
}

TEST(FixedSlabResource, ReleaseDropsBlocksCachedByOtherThreads) {
  test_upstream up;
  fixed_slab_resource r(small_slab(8), &up);
  std::promise<void> cached, released;
  std::thread worker([&] {
    void* p = r.allocate(64, 8);
    r.deallocate(p, 64, 8);
    cached.set_value();
    released.get_future().wait();
    // The cache was emptied by release: this allocation must come from a new chunk, not the old one.
    void* q = r.allocate(64, 8);
    std::memset(q, 2, 64);
    r.deallocate(q, 64, 8);
  });
  cached.get_future().wait();
  r.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  released.set_value();
  worker.join();
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// ---------------------------------------------------------------------------------------------------
// Randomised model test

class FixedSlabModel : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(FixedSlabModel, RandomSequencesAgreeWithTheModel) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(16)}) {
    test_upstream up;
    fixed_slab_options o;
    o.block_size = 256;
    o.chunk_bytes = 256 * 32;
    o.thread_cache_entries = cache_entries;
    fixed_slab_resource r(o, &up);
    model_options m;
    m.seed = GetParam();
    m.operations = 6000;
    m.max_live = 300;
    m.max_size = 256;
    m.alignments = {1, 2, 4, 8, 16, 32, 64, 128, 256};
    testing::run_model_until_empty(r, up, m);
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, FixedSlabModel, ::testing::Values(1, 2, 3, 42, 20261201));

// ---------------------------------------------------------------------------------------------------
// Throwing upstream

// 50 allocations of 0, 1, 2, ... bytes (all within the 64-byte block), which cross several chunk
// boundaries.
int run_script(fixed_slab_resource& r, const test_upstream& up) {
  std::vector<std::size_t> sizes;
  for (std::size_t bytes = 0; bytes <= 64; ++bytes) sizes.push_back(bytes);
  return testing::run_allocation_script(r, up, sizes, 50);
}

TEST(FixedSlabResource, AnUpstreamFailureAtAnyCallLeavesItConsistentAndLeakFree) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(4)}) {
    for (bool checked : {false, true}) {
      SCOPED_TRACE("cache " + std::to_string(cache_entries) + ", checked " + std::to_string(checked));
      fixed_slab_options o = small_slab(cache_entries);
      o.checked = checked;
      testing::expect_every_upstream_failure_survived(
          [&](testing::upstream_failure& f) {
            fixed_slab_resource r(o, &f.up);
            f.arm();
            return std::size_t(run_script(r, f.up));
          },
          3);  // the script crosses chunk boundaries
    }
  }
}

TEST(FixedSlabResource, AnUpstreamThatAlwaysFailsThrowsOnEveryRefillAndRecovers) {
  test_upstream up;
  fixed_slab_resource r(small_slab(), &up);
  up.fail_always(true);
  EXPECT_THROW((void)r.allocate(8, 8), std::bad_alloc);
  EXPECT_THROW((void)r.allocate(8, 8), std::bad_alloc);
  EXPECT_EQ(r.stats().allocations, 0u);
  EXPECT_EQ(r.stats().bytes_held, 0u);
  up.fail_always(false);
  void* p = r.allocate(8, 8);
  r.deallocate(p, 8, 8);
  EXPECT_EQ(r.stats().allocations, 1u);
}

// ---------------------------------------------------------------------------------------------------
// Checked mode

fixed_slab_options checked_slab(std::size_t cache_entries = 0) {
  fixed_slab_options o = small_slab(cache_entries);
  o.checked = true;
  return o;
}

TEST(FixedSlabResource, CheckedModeReportsADoubleFreeAndIgnoresIt) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(8)}) {
    SCOPED_TRACE(::testing::Message() << "cache entries " << cache_entries);
    test_upstream up;
    fixed_slab_resource r(checked_slab(cache_entries), &up);
    testing::expect_double_free_reported(r, 40, 8, "fixed_slab");
  }
}

TEST(FixedSlabResource, CheckedModeReportsAForeignPointerAndIgnoresIt) {
  test_upstream up;
  fixed_slab_resource r(checked_slab(), &up);
  fixed_slab_resource other(checked_slab(), &up);  // a block of another slab is just as foreign
  testing::expect_foreign_frees_reported(r, other, 64, 8);
}

TEST(FixedSlabResource, CheckedModeReportsASizeMismatchAndKeepsTheBlockLive) {
  test_upstream up;
  fixed_slab_resource r(checked_slab(), &up);
  testing::expect_wrong_size_frees_reported(r, 40, 8, {{32, 8}, {40, 16}});
}

TEST(FixedSlabResource, UncheckedModeStillRejectsAFreeThatCannotBeItsBlock) {
  test_upstream up;
  fixed_slab_options o = small_slab();
  o.checked = false;
  fixed_slab_resource r(o, &up);
  // Larger than any block; more aligned than any block.
  testing::expect_wrong_size_frees_reported(r, 64, 8, {{65, 8}, {8, 128}});
}

TEST(FixedSlabResource, CheckedModeCatchesEveryFaultClass) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(8)}) {
    SCOPED_TRACE(::testing::Message() << "cache entries " << cache_entries);
    test_upstream up;
    fixed_slab_resource r(checked_slab(cache_entries), &up);
    testing::expect_every_fault_class_caught(r, 40, 8, "fixed_slab");  // 24 bytes of slack for the canary
  }
}

TEST(FixedSlabResource, CheckedModeRegistryOutOfMemoryChangesNothing) {
  testing::expect_registry_out_of_memory_changes_nothing(
      [](test_upstream& up) { return std::make_unique<fixed_slab_resource>(checked_slab(8), &up); }, 40, 8);
}

TEST(FixedSlabResource, AHandlerThatThrowsLeavesTheResourceUnchanged) {
  test_upstream up;
  fixed_slab_resource r(checked_slab(), &up);
  testing::expect_throwing_handler_changes_nothing(r, 40, 8);
}

// ---------------------------------------------------------------------------------------------------
// Threads

// Blocks carry their owner's tag in every byte, so that a block handed to two threads at once, or
// written after its free, shows up as a wrong byte when another thread frees it.
TEST(FixedSlabResource, BlocksFreedByOtherThreadsKeepStatsAndPoolConsistent) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(16)}) {
    SCOPED_TRACE("thread_cache_entries " + std::to_string(cache_entries));
    test_upstream up;
    fixed_slab_options o;
    o.block_size = 48;
    o.chunk_bytes = 48 * 64;
    o.thread_cache_entries = cache_entries;
    fixed_slab_resource r(o, &up);
    constexpr int kThreads = 6, kPerThread = 3000;
    testing::run_cross_thread_ring(r, kThreads, kPerThread, [](int, int) { return std::size_t(48); });

    const resource_stats s = r.stats();
    testing::expect_ring_totals(s, up, std::uint64_t(kThreads) * kPerThread, std::uint64_t(kThreads) * kPerThread * 48);
    EXPECT_EQ(s.classes.at(0).live_blocks, 0u);
    EXPECT_GE(s.peak_live_bytes, 48u);

    // Every worker has exited, so every block of every chunk is back in the shared pool (once
    // checked mode, the default of sanitizer builds, lets the quarantined ones go): this thread can
    // take them all without another upstream call.
    r.flush_quarantine();
    const std::size_t calls = up.allocate_calls();
    const std::size_t all_blocks = up.outstanding_blocks() * r.blocks_per_chunk();
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < all_blocks; ++i) blocks.push_back(r.allocate(48, 8));
    EXPECT_EQ(up.allocate_calls(), calls);
    EXPECT_EQ(std::set<void*>(blocks.begin(), blocks.end()).size(), all_blocks);
    for (void* p : blocks) r.deallocate(p, 48, 8);
  }
}

TEST(FixedSlabResource, UpstreamCallsFromManyThreadsAreSerialised) {
  for (std::size_t cache_entries : {std::size_t(0), std::size_t(8)}) {
    SCOPED_TRACE("thread_cache_entries " + std::to_string(cache_entries));
    test_upstream up;
    single_threaded_upstream serial(up);
    {
      fixed_slab_options o = small_slab(cache_entries);
      o.chunk_bytes = 4 * 64;  // a refill every 4 blocks: threads refill all the time
      fixed_slab_resource r(o, &serial);
      testing::run_simultaneous_batches(r, 4, 300, [](std::size_t) { return std::size_t(64); });
      EXPECT_EQ(r.stats().bytes_held, up.outstanding_bytes());
    }
    EXPECT_EQ(serial.max_in_flight(), 1);
    EXPECT_EQ(up.outstanding_blocks(), 0u);
  }
}

}  // namespace
}  // namespace allocbench
