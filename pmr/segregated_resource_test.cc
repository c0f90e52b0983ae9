#include "pmr/segregated_resource.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <latch>
#include <limits>
#include <mutex>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
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

// Irregular classes whose block alignments differ from their sizes: 1 and 24 (stride 8 and 24:
// alignment 8), 48 (16), 100 (stride 104: 8), 128 (128), 4096 (4096).
const std::vector<std::size_t> kIrregular = {1, 8, 24, 48, 100, 128, 4096};

segregated_options options_for(lock_mode mode, std::vector<std::size_t> classes, std::size_t chunk_bytes) {
  segregated_options o;
  o.mode = mode;
  o.classes = std::move(classes);
  o.chunk_bytes = chunk_bytes;
  // The engine's reuse is tested unchecked, whatever the build's default: checked mode holds freed
  // blocks in quarantine before reuse, and has tests of its own below.
  o.checked = false;
  return o;
}

// Every test runs in each of the three lock modes: they must behave identically, single-threaded.
class SegregatedResource : public ::testing::TestWithParam<lock_mode> {
 protected:
  segregated_options options(std::vector<std::size_t> classes = {32, 64, 128, 256, 512, 1024, 2048, 4096},
                             std::size_t chunk_bytes = 16 * 1024) const {
    return options_for(GetParam(), std::move(classes), chunk_bytes);
  }
};

std::string mode_name(const ::testing::TestParamInfo<lock_mode>& info) {
  return std::string(to_string(info.param));
}

INSTANTIATE_TEST_SUITE_P(Modes, SegregatedResource,
                         ::testing::Values(lock_mode::global, lock_mode::per_class,
                                           lock_mode::per_class_arena),
                         mode_name);

// ---------------------------------------------------------------------------------------------------
// Class boundaries and alignment

TEST_P(SegregatedResource, ASizeEqualToAClassGoesToItAndOneMoreToTheNext) {
  test_upstream up;
  segregated_resource r(options(kIrregular, 8192), &up);
  ASSERT_EQ(r.mode(), GetParam());
  const std::vector<std::size_t>& sizes = r.classes();
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::size_t s = sizes[i];
    EXPECT_EQ(r.class_index(s, 1), i) << "size " << s;
    resource_stats before = r.stats();
    void* p = r.allocate(s, 1);
    resource_stats after = r.stats();
    EXPECT_EQ(after.classes[i].allocations, before.classes[i].allocations + 1) << "size " << s;
    EXPECT_EQ(after.live_usable_bytes, before.live_usable_bytes + s);  // usable = the class size
    std::memset(p, 0x5a, s);
    r.deallocate(p, s, 1);

    if (i + 1 < sizes.size()) {
      EXPECT_EQ(r.class_index(s + 1, 1), i + 1) << "size " << s + 1;
      before = r.stats();
      p = r.allocate(s + 1, 1);
      after = r.stats();
      EXPECT_EQ(after.classes[i + 1].allocations, before.classes[i + 1].allocations + 1)
          << "size " << s + 1;
      EXPECT_EQ(after.classes[i].allocations, before.classes[i].allocations);
      std::memset(p, 0x5a, s + 1);
      r.deallocate(p, s + 1, 1);
    }
  }
}

TEST_P(SegregatedResource, OneByteOverTheLargestClassThrowsBadAllocAndChangesNothing) {
  test_upstream up;
  segregated_resource r(options(), &up);
  void* keep = r.allocate(4096, 1);
  const resource_stats before = r.stats();
  EXPECT_EQ(r.max_size(), 4096u);
  EXPECT_EQ(r.class_index(4097, 1), segregated_resource::npos);
  EXPECT_THROW((void)r.allocate(4097, 1), std::bad_alloc);
  expect_same_counts(before, r.stats());
  r.deallocate(keep, 4096, 1);
}

TEST_P(SegregatedResource, SizesNearSizeMaxThrowBadAllocAndChangeNothing) {
  test_upstream up;
  segregated_resource r(options(), &up);
  testing::expect_impossible_sizes_rejected(r, up, {kSizeMax, kSizeMax - 1, kSizeMax - 4095, kSizeMax / 2 + 1}, {1, 64, 4096});
}

TEST_P(SegregatedResource, AllocateZeroGivesDistinctBlocksOfTheSmallestClass) {
  test_upstream up;
  segregated_resource r(options(), &up);
  void* a = r.allocate(0, 1);
  void* b = r.allocate(0, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.classes[0].allocations, 2u);
  EXPECT_EQ(s.live_usable_bytes, 64u);
  EXPECT_EQ(s.live_requested_bytes, 0u);
  r.deallocate(a, 0, 1);
  r.deallocate(b, 0, 1);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

TEST_P(SegregatedResource, ClassAlignmentIsTheLargestPowerOfTwoDividingTheStride) {
  test_upstream up;
  segregated_resource r(options(kIrregular, 8192), &up);
  const std::size_t expected[] = {8, 8, 8, 16, 8, 128, 4096};
  for (std::size_t i = 0; i < kIrregular.size(); ++i) {
    EXPECT_EQ(r.class_alignment(i), expected[i]) << "class " << kIrregular[i];
  }
}

TEST_P(SegregatedResource, AnOverAlignedRequestMovesUpToTheFirstClassAlignedEnough) {
  test_upstream up;
  segregated_resource r(options(kIrregular, 8192), &up);
  EXPECT_EQ(r.class_index(8, 8), 1u);      // class 8
  EXPECT_EQ(r.class_index(8, 16), 3u);     // class 48, the first aligned to 16
  EXPECT_EQ(r.class_index(49, 16), 5u);    // 100 is only 8-aligned: class 128
  EXPECT_EQ(r.class_index(1, 32), 5u);     // class 128
  EXPECT_EQ(r.class_index(129, 128), 6u);  // class 4096
  EXPECT_EQ(r.class_index(1, 8192), segregated_resource::npos);

  const resource_stats before = r.stats();
  void* p = r.allocate(8, 16);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u);
  EXPECT_EQ(r.stats().classes[3].allocations, before.classes[3].allocations + 1);
  r.deallocate(p, 8, 16);
}

TEST_P(SegregatedResource, EveryAlignmentUpTo4096IsHonoured) {
  test_upstream up;
  segregated_resource r(options(kIrregular, 8192), &up);
  for (std::size_t alignment = 1; alignment <= 4096; alignment *= 2) {
    for (std::size_t bytes : {std::size_t(0), std::size_t(1), std::size_t(24), std::size_t(100)}) {
      // A few blocks each, so that blocks past the first of a chunk are checked too.
      std::vector<void*> blocks;
      for (int i = 0; i < 3; ++i) {
        void* p = r.allocate(bytes, alignment);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u)
            << bytes << " bytes, alignment " << alignment;
        blocks.push_back(p);
      }
      for (void* p : blocks) r.deallocate(p, bytes, alignment);
    }
  }
}

TEST_P(SegregatedResource, AlignmentBeyondEveryClassThrowsBadAllocAndChangesNothing) {
  test_upstream up;
  segregated_resource r(options({16, 32, 64}, 4096), &up);  // largest block alignment: 64
  const resource_stats before = r.stats();
  EXPECT_THROW((void)r.allocate(1, 128), std::bad_alloc);
  EXPECT_THROW((void)r.allocate(1, 8192), std::bad_alloc);
  expect_same_counts(before, r.stats());
  void* p = r.allocate(1, 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
  r.deallocate(p, 1, 64);
}

TEST_P(SegregatedResource, NonPowerOfTwoAlignmentThrowsInvalidArgumentAndChangesNothing) {
  test_upstream up;
  segregated_resource r(options(), &up);
  testing::expect_bad_alignments_rejected(r, up, {8, 100000}, {0, 3, 12, 48, 4095, kSizeMax});
}

TEST_P(SegregatedResource, IsEqualIsIdentity) {
  test_upstream up;
  segregated_resource a(options(), &up);
  segregated_resource b(options(), &up);
  testing::expect_is_equal_is_identity(a, b, up);
  EXPECT_EQ(a.kind(), "segregated");
}

// ---------------------------------------------------------------------------------------------------
// Upstream traffic, release and destruction

TEST_P(SegregatedResource, EachClassTakesItsOwnChunksAndReusesFreedBlocks) {
  test_upstream up;
  segregated_resource r(options({64, 256}, 1024), &up);  // 16 and 4 blocks per chunk
  std::vector<void*> small, large;
  for (int i = 0; i < 16; ++i) small.push_back(r.allocate(64, 8));
  EXPECT_EQ(up.allocate_calls(), 1u);
  for (int i = 0; i < 5; ++i) large.push_back(r.allocate(256, 8));
  EXPECT_EQ(up.allocate_calls(), 3u);  // the 256 class's own two chunks
  resource_stats s = r.stats();
  EXPECT_EQ(s.classes[0].bytes_held, 1024u);
  EXPECT_EQ(s.classes[1].bytes_held, 2048u);
  EXPECT_EQ(s.bytes_held, 3072u);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());

  const std::set<void*> first(small.begin(), small.end());
  for (void* p : small) r.deallocate(p, 64, 8);
  small.clear();
  for (int i = 0; i < 16; ++i) small.push_back(r.allocate(64, 8));
  EXPECT_EQ(up.allocate_calls(), 3u);
  EXPECT_EQ(std::set<void*>(small.begin(), small.end()), first);
  for (void* p : small) r.deallocate(p, 64, 8);
  for (void* p : large) r.deallocate(p, 256, 8);
  EXPECT_EQ(up.outstanding_blocks(), 3u);  // nothing goes back before release
}

TEST_P(SegregatedResource, ReleaseGivesEveryChunkBackAndTheResourceStaysUsable) {
  test_upstream up;
  segregated_resource r(options(), &up);
  for (std::size_t size = 16; size <= 4096; size *= 2) {
    for (int i = 0; i < 10; ++i) (void)r.allocate(size, 1);  // never freed
  }
  EXPECT_GT(up.outstanding_blocks(), 8u);
  // No block of a returned chunk may be handed out afterwards.
  testing::expect_release_returns_everything(r, up, 90, 100);
}

TEST_P(SegregatedResource, DestructorGivesEveryChunkBack) {
  test_upstream up;
  {
    segregated_resource r(options(), &up);
    for (std::size_t size = 1; size <= 4096; size = size * 3 + 1) (void)r.allocate(size, 1);
    void* p = r.allocate(40, 8);
    r.deallocate(p, 40, 8);
    EXPECT_GT(up.outstanding_blocks(), 0u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// ---------------------------------------------------------------------------------------------------
// Statistics

TEST_P(SegregatedResource, StatsCountRequestedAndUsableBytesPerClass) {
  test_upstream up;
  segregated_resource r(options(), &up);
  void* a = r.allocate(10, 1);    // class 32
  void* b = r.allocate(33, 1);    // class 64
  void* c = r.allocate(64, 64);   // class 64
  void* d = r.allocate(1000, 8);  // class 1024
  resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 4u);
  EXPECT_EQ(s.live_blocks, 4u);
  EXPECT_EQ(s.live_requested_bytes, 10u + 33 + 64 + 1000);
  EXPECT_EQ(s.live_usable_bytes, 32u + 64 + 64 + 1024);
  EXPECT_EQ(s.live_bytes, s.live_usable_bytes);
  EXPECT_EQ(s.peak_live_bytes, s.live_usable_bytes);
  EXPECT_EQ(s.total_requested_bytes, 1107u);
  EXPECT_EQ(s.total_usable_bytes, 1184u);
  EXPECT_EQ(s.bytes_held, 3 * 16 * 1024u);
  EXPECT_EQ(s.peak_bytes_held, 3 * 16 * 1024u);

  ASSERT_EQ(s.classes.size(), 8u);
  const char* names[] = {"32", "64", "128", "256", "512", "1024", "2048", "4096"};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(s.classes[i].name, names[i]);
    EXPECT_EQ(s.classes[i].block_size, r.classes()[i]);
  }
  EXPECT_EQ(s.classes[0].allocations, 1u);
  EXPECT_EQ(s.classes[1].allocations, 2u);
  EXPECT_EQ(s.classes[5].allocations, 1u);
  EXPECT_EQ(s.classes[2].allocations, 0u);
  EXPECT_EQ(s.classes[1].live_blocks, 2u);
  EXPECT_EQ(s.classes[1].bytes_held, 16 * 1024u);
  EXPECT_EQ(s.classes[2].bytes_held, 0u);

  r.deallocate(b, 33, 1);
  r.deallocate(d, 1000, 8);
  s = r.stats();
  EXPECT_EQ(s.deallocations, 2u);
  EXPECT_EQ(s.live_blocks, 2u);
  EXPECT_EQ(s.live_requested_bytes, 74u);
  EXPECT_EQ(s.live_usable_bytes, 96u);
  EXPECT_EQ(s.peak_live_bytes, 1184u);      // the high-water mark stays
  EXPECT_EQ(s.total_requested_bytes, 1107u);  // totals never go down
  EXPECT_EQ(s.classes[1].deallocations, 1u);
  EXPECT_EQ(s.classes[1].live_blocks, 1u);
  EXPECT_EQ(s.classes[5].live_blocks, 0u);
  EXPECT_EQ(s.bytes_held, 3 * 16 * 1024u);  // nothing returned before release

  r.deallocate(a, 10, 1);
  r.deallocate(c, 64, 64);
  s = r.stats();
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.peak_live_bytes, 1184u);
}

TEST_P(SegregatedResource, PeakLiveBytesIsExactOnOneThreadPastThePublishingThreshold) {
  test_upstream up;
  segregated_resource r(options({64, 4096}, 4096 * 16), &up);
  testing::expect_exact_peak_on_one_thread(r);
}

TEST(SegregatedLockMode, NamesRoundTrip) {
  for (lock_mode m : {lock_mode::global, lock_mode::per_class, lock_mode::per_class_arena}) {
    EXPECT_EQ(parse_lock_mode(to_string(m)), m);
  }
  EXPECT_EQ(to_string(lock_mode::per_class_arena), "per_class_arena");
  EXPECT_EQ(parse_lock_mode("sharded"), std::nullopt);
  EXPECT_EQ(parse_lock_mode(""), std::nullopt);
  EXPECT_EQ(parse_lock_mode("Global"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------------
// Options

std::string construction_error(const segregated_options& o, std::pmr::memory_resource* upstream) {
  return testing::construction_error<segregated_resource>(o, upstream);
}

TEST(SegregatedResourceOptions, InvalidOptionsThrowInvalidArgumentNamingTheOption) {
  test_upstream up;
  const std::size_t too_big = (std::size_t(1) << 30) + 1;
  const testing::bad_option<segregated_options> cases[] = {
      {options_for(lock_mode::global, {}, 4096), "classes"},
      {options_for(lock_mode::global, {0, 64}, 4096), "classes"},
      {options_for(lock_mode::global, {64, 32}, 4096), "classes"},
      {options_for(lock_mode::global, {32, 32}, 4096), "classes"},
      {options_for(lock_mode::global, {32, 64, 48}, 4096), "classes"},
      {options_for(lock_mode::global, {32, too_big}, std::size_t(1) << 30), "classes"},
      {options_for(lock_mode::global, {32, kSizeMax}, 4096), "classes"},
      {options_for(static_cast<lock_mode>(7), {32}, 4096), "mode"},
      {options_for(lock_mode::global, {32, 100}, 103), "chunk_bytes"},  // < stride 104
      {options_for(lock_mode::per_class, {32}, 0), "chunk_bytes"},
      {options_for(lock_mode::per_class_arena, {32}, too_big), "chunk_bytes"},
  };
  testing::expect_bad_options_named<segregated_resource, segregated_options>(cases, up);
}

TEST(SegregatedResourceOptions, OptionsAtTheirLimitsAreAccepted) {
  test_upstream up;
  // One class, one block per chunk: chunk_bytes exactly the stride.
  segregated_resource r(options_for(lock_mode::per_class, {100}, 104), &up);
  void* a = r.allocate(100, 8);
  void* b = r.allocate(100, 8);
  EXPECT_NE(a, b);
  EXPECT_EQ(up.allocate_calls(), 2u);
  r.deallocate(a, 100, 8);
  r.deallocate(b, 100, 8);
  EXPECT_EQ(construction_error(options_for(lock_mode::global, {1}, 8), &up), "");
}

// ---------------------------------------------------------------------------------------------------
// Randomised model test

class SegregatedModel : public ::testing::TestWithParam<std::tuple<lock_mode, std::uint64_t>> {};

TEST_P(SegregatedModel, RandomSequencesAgreeWithTheModel) {
  const auto [mode, seed] = GetParam();
  for (const auto& classes : {std::vector<std::size_t>{32, 64, 128, 256, 512, 1024, 2048, 4096},
                              kIrregular}) {
    test_upstream up;
    segregated_resource r(options_for(mode, classes, 16 * 1024), &up);
    model_options m;
    m.seed = seed;
    m.operations = 5000;
    m.max_live = 300;
    m.max_size = 4096;  // every size and alignment of the default list fits some class
    const resource_stats s = testing::run_model_until_empty(r, up, m);
    std::uint64_t allocations = 0;
    for (const class_stats& c : s.classes) {
      allocations += c.allocations;
      EXPECT_EQ(c.live_blocks, 0u) << c.name;
    }
    EXPECT_EQ(allocations, s.allocations);  // every allocation is counted in exactly one class
  }
}

INSTANTIATE_TEST_SUITE_P(
    ModesAndSeeds, SegregatedModel,
    ::testing::Combine(::testing::Values(lock_mode::global, lock_mode::per_class,
                                         lock_mode::per_class_arena),
                       ::testing::Values(std::uint64_t(1), std::uint64_t(7), std::uint64_t(20261201))));

// ---------------------------------------------------------------------------------------------------
// Throwing upstream

// 120 allocations cycling through sizes of four classes, which take several chunks per class.
int run_script(segregated_resource& r, const test_upstream& up) {
  return testing::run_allocation_script(r, up, {16, 60, 250, 1000}, 120);
}

TEST_P(SegregatedResource, AnUpstreamFailureAtAnyCallLeavesItConsistentAndLeakFree) {
  // Unchecked only: the sweep needs the same upstream calls in every run, and checked mode's
  // quarantine releases blocks by address shard, which differs from run to run.
  for (bool checked : {false}) {
    SCOPED_TRACE("checked " + std::to_string(checked));
    segregated_options o = options({16, 64, 256, 1024}, 4096);  // 256, 64, 16 and 4 blocks per chunk
    o.checked = checked;
    testing::expect_every_upstream_failure_survived(
        [&](testing::upstream_failure& f) {
          segregated_resource r(o, &f.up);
          f.arm();
          return std::size_t(run_script(r, f.up));
        },
        8);  // several chunks per class
  }
}

TEST_P(SegregatedResource, AnUpstreamThatAlwaysFailsThrowsOnEveryRefillAndRecovers) {
  test_upstream up;
  segregated_resource r(options(), &up);
  void* p = r.allocate(30, 8);  // class 32 has a chunk; the others have none
  up.fail_always(true);
  EXPECT_THROW((void)r.allocate(100, 8), std::bad_alloc);
  EXPECT_THROW((void)r.allocate(100, 8), std::bad_alloc);
  void* q = r.allocate(30, 8);  // served without upstream
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.classes[2].allocations, 0u);
  EXPECT_EQ(s.classes[2].bytes_held, 0u);
  up.fail_always(false);
  void* t = r.allocate(100, 8);
  r.deallocate(t, 100, 8);
  r.deallocate(q, 30, 8);
  r.deallocate(p, 30, 8);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// ---------------------------------------------------------------------------------------------------
// Checked mode

segregated_options checked(segregated_options o) {
  o.checked = true;
  return o;
}

TEST_P(SegregatedResource, CheckedModeCatchesEveryFaultClass) {
  test_upstream up;
  segregated_resource r(checked(options()), &up);
  testing::expect_every_fault_class_caught(r, 100, 8, "segregated");  // class 128: slack for the canary
}

TEST_P(SegregatedResource, CheckedModeRegistryOutOfMemoryChangesNothing) {
  testing::expect_registry_out_of_memory_changes_nothing(
      [this](test_upstream& up) { return std::make_unique<segregated_resource>(checked(options()), &up); }, 100, 8);
}

TEST_P(SegregatedResource, CheckedModeReportsADoubleFreeAndIgnoresIt) {
  test_upstream up;
  segregated_resource r(checked(options()), &up);
  testing::expect_double_free_reported(r, 100, 8, "segregated");
}

TEST_P(SegregatedResource, CheckedModeReportsAForeignPointerAndIgnoresIt) {
  test_upstream up;
  segregated_resource r(checked(options()), &up);
  segregated_resource other(checked(options()), &up);  // a block of another resource is just as foreign
  testing::expect_foreign_frees_reported(r, other, 64, 8);
}

TEST_P(SegregatedResource, CheckedModeReportsAFreeWithTheWrongSizeAndKeepsTheBlockLive) {
  test_upstream up;
  segregated_resource r(checked(options()), &up);
  // 40 bytes are served by class 64. 20 would put the block on the 32 list; 40 at alignment 64 is
  // the same class, but still not what was allocated.
  testing::expect_wrong_size_frees_reported(r, 40, 8, {{20, 8}, {40, 64}});
}

TEST_P(SegregatedResource, UncheckedModeStillRejectsAFreeNoClassCouldHaveServed) {
  test_upstream up;
  segregated_options o = options({16, 32, 64}, 4096);
  o.checked = false;
  segregated_resource r(o, &up);
  // Larger than every class; more aligned than every class.
  testing::expect_wrong_size_frees_reported(r, 64, 8, {{65, 8}, {8, 128}});
}

TEST_P(SegregatedResource, AHandlerThatThrowsLeavesTheResourceUnchanged) {
  test_upstream up;
  segregated_resource r(checked(options()), &up);
  testing::expect_throwing_handler_changes_nothing(r, 40, 8);
}

// ---------------------------------------------------------------------------------------------------
// Threads

// Blocks carry a tag in every byte, so that a block handed to two threads at once, or written after its
// free, shows up as a wrong byte when another thread frees it.
TEST_P(SegregatedResource, BlocksFreedByOtherThreadsKeepStatsConsistent) {
  test_upstream up;
  segregated_resource r(options({16, 64, 256, 1024}, 8192), &up);
  constexpr int kThreads = 6, kPerThread = 2500;
  const std::size_t sizes[] = {1, 16, 40, 64, 200, 1024};

  // Every free on a thread other than the allocating one.
  const std::uint64_t requested =
      testing::run_cross_thread_ring(r, kThreads, kPerThread, [&sizes](int t, int i) { return sizes[(t + i) % 6]; });

  const resource_stats s = r.stats();
  testing::expect_ring_totals(s, up, std::uint64_t(kThreads) * kPerThread, requested);
  std::uint64_t class_allocations = 0, class_bytes_held = 0;
  for (const class_stats& c : s.classes) {
    EXPECT_EQ(c.allocations, c.deallocations) << c.name;
    EXPECT_EQ(c.live_blocks, 0u) << c.name;
    class_allocations += c.allocations;
    class_bytes_held += c.bytes_held;
  }
  EXPECT_EQ(class_allocations, s.allocations);
  EXPECT_EQ(class_bytes_held, s.bytes_held);
}

TEST_P(SegregatedResource, GlobalAndPerClassModesSerialiseUpstreamCalls) {
  if (GetParam() == lock_mode::per_class_arena) {
    GTEST_SKIP() << "per_class_arena refills classes concurrently by design";
  }
  test_upstream up;
  single_threaded_upstream serial(up);
  {
    // One thread per class, 1 to 8 blocks per chunk: refills of different classes keep colliding.
    segregated_resource r(options({64, 128, 256, 512}, 512), &serial);
    testing::run_simultaneous_batches(r, 4, 150, [&r](std::size_t t) { return r.classes()[t]; });
    EXPECT_EQ(r.stats().bytes_held, up.outstanding_bytes());
  }
  EXPECT_EQ(serial.max_in_flight(), 1);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench
