#include "pmr/best_fit_resource.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory_resource>
#include <new>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "allocator/invalid_free.h"
#include "pmr/testing/allocation_script.h"
#include "pmr/testing/contract_checks.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/model_checker.h"
#include "pmr/testing/random_script.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::invalid_free_recorder;
using testing::model_checker;
using testing::model_options;
using testing::test_upstream;

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kRegionHeader = 32;  // region_header: two links, bytes, padding
constexpr std::size_t kTag = 16;           // block_tag in front of every region block

// The size of the region block a request of `bytes` occupies: the payload rounded to 16 plus the tag,
// at least 32 bytes (the tag and the free-list links it holds while free).
constexpr std::size_t block_bytes(std::size_t bytes) {
  const std::size_t b = (bytes + 15) / 16 * 16 + kTag;
  return b < 32 ? 32 : b;
}

best_fit_options make_options(std::size_t region_bytes, std::size_t direct_threshold = 256 * 1024,
                              bool release_empty = false, bool checked = false) {
  best_fit_options o;
  o.region_bytes = region_bytes;
  o.direct_threshold = direct_threshold;
  o.release_empty_regions = release_empty;
  o.checked = checked;
  return o;
}

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Once every block is freed, each region must have merged back into one free block spanning it; any
// missed coalescing leaves more blocks than regions.
void expect_fully_coalesced(const best_fit_resource& r) {
  const auto fs = r.inspect();
  const resource_stats s = r.stats();
  EXPECT_EQ(fs.free_blocks, fs.regions);
  EXPECT_EQ(fs.direct_blocks, 0u);
  ASSERT_EQ(s.classes.size(), 2u);
  EXPECT_EQ(fs.free_bytes, s.classes[0].bytes_held - fs.regions * kRegionHeader);
}

// ---------------------------------------------------------------------------------------------------
// Construction and the contract every resource shares.

TEST(BestFitResource, ConstructorRejectsBadOptions) {
  EXPECT_THROW(best_fit_resource(make_options(0)), std::invalid_argument);
  EXPECT_THROW(best_fit_resource(make_options(std::size_t(1) << 49)), std::invalid_argument);
  EXPECT_THROW(best_fit_resource(make_options(4096), nullptr), std::invalid_argument);
}

TEST(BestFitResource, RegionBytesRoundUpToPages) {
  test_upstream up;
  best_fit_resource r(make_options(5000), &up);
  EXPECT_EQ(r.options().region_bytes, 8192u);
  EXPECT_EQ(r.kind(), "best_fit");
  EXPECT_EQ(r.upstream(), &up);
  // The first allocation takes exactly one region of the rounded size.
  void* p = r.allocate(10);
  EXPECT_EQ(up.outstanding_bytes(), 8192u);
  EXPECT_EQ(r.stats().bytes_held, 8192u);
  r.deallocate(p, 10);
}

TEST(BestFitResource, AllocateZeroReturnsDistinctBlocks) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  void* a = r.allocate(0);
  void* b = r.allocate(0, 64);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(addr(b) % 64, 0u);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.live_blocks, 2u);
  EXPECT_EQ(s.live_requested_bytes, 0u);
  r.deallocate(a, 0);
  r.deallocate(b, 0, 64);
  EXPECT_EQ(r.stats().live_blocks, 0u);
  expect_fully_coalesced(r);
}

TEST(BestFitResource, NonPowerOfTwoAlignmentThrowsInvalidArgument) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  // 1 MiB: the direct path's size range.
  testing::expect_bad_alignments_rejected(r, up, {64, 1 << 20}, {0, 3, 24, 48, 4095, 12288});
}

// Sizes whose block, padding or upstream header overflows size_t: bad_alloc before anything changes,
// on both paths (direct_threshold at its default sends them direct; at SIZE_MAX through the regions).
TEST(BestFitResource, SizesNearSizeMaxThrowBadAllocAndChangeNothing) {
  for (std::size_t threshold : {std::size_t(256 * 1024), kMax}) {
    test_upstream up;
    best_fit_resource r(make_options(65536, threshold), &up);
    void* keep = r.allocate(100);  // so that a region exists and its state can be compared
    const resource_stats before = r.stats();
    const auto fs_before = r.inspect();
    for (std::size_t bytes : {kMax, kMax - 1, kMax - 15, kMax - 31, kMax - 40, kMax - 4096}) {
      for (std::size_t alignment : {std::size_t(1), std::size_t(16), std::size_t(4096), std::size_t(8192)}) {
        // On the direct path kMax - 4096 plus a header of 4096 or less does not overflow: that size
        // would reach upstream (and a real allocator). Only the region path sees it.
        if (bytes == kMax - 4096 && alignment <= 4096 && threshold != kMax) continue;
        EXPECT_THROW((void)r.allocate(bytes, alignment), std::bad_alloc) << bytes << " @" << alignment;
      }
    }
    const resource_stats after = r.stats();
    EXPECT_EQ(after.allocations, before.allocations);
    EXPECT_EQ(after.live_blocks, before.live_blocks);
    EXPECT_EQ(after.bytes_held, before.bytes_held);
    EXPECT_EQ(after.total_requested_bytes, before.total_requested_bytes);
    const auto fs_after = r.inspect();
    EXPECT_EQ(fs_after.regions, fs_before.regions);
    EXPECT_EQ(fs_after.free_blocks, fs_before.free_blocks);
    EXPECT_EQ(fs_after.free_bytes, fs_before.free_bytes);
    EXPECT_EQ(fs_after.direct_blocks, 0u);
    EXPECT_EQ(up.allocate_calls(), 1u) << "an impossible size reached upstream";
    // Still usable.
    void* p = r.allocate(1000, 64);
    r.deallocate(p, 1000, 64);
    r.deallocate(keep, 100);
    expect_fully_coalesced(r);
  }
}

TEST(BestFitResource, IsEqualOnlyToItself) {
  best_fit_resource a, b;
  testing::expect_is_equal_is_identity(a, b, *std::pmr::new_delete_resource());
  EXPECT_FALSE(std::pmr::new_delete_resource()->is_equal(a));
}

// ---------------------------------------------------------------------------------------------------
// Best fit, splitting, coalescing.

// Carves holes of distinct sizes, each between two blocks in use, and checks that every request gets
// the smallest hole that fits rather than the first found or the big free tail of the region.
TEST(BestFitResource, PicksTheSmallestHoleThatFits) {
  test_upstream up;
  best_fit_resource r(make_options(1 << 20), &up);
  const std::size_t hole_sizes[] = {1000, 300, 600, 2000, 4200, 4150, 9000};
  std::vector<void*> holes, separators;
  for (std::size_t n : hole_sizes) {
    holes.push_back(r.allocate(n));
    separators.push_back(r.allocate(16));
  }
  // Freed last to first, so that 4150 enters its size bin before 4200: the bin must still hand out
  // the smaller one first.
  for (std::size_t i = holes.size(); i-- > 0;) r.deallocate(holes[i], hole_sizes[i]);
  ASSERT_EQ(r.inspect().free_blocks, holes.size() + 1);  // the holes and the tail

  // Request -> index of the hole it must land in. 4200 and 4150 share one size bin above 4 KiB, so
  // the bin's order matters there.
  const struct {
    std::size_t bytes;
    std::size_t hole;
  } cases[] = {{250, 1}, {301, 1}, {305, 2}, {599, 2}, {700, 0}, {1000, 0}, {1009, 3},
               {4100, 5}, {4150, 5}, {4161, 4}, {4209, 6}};
  for (const auto& c : cases) {
    void* p = r.allocate(c.bytes);
    EXPECT_EQ(p, holes[c.hole]) << "request of " << c.bytes << " bytes";
    r.deallocate(p, c.bytes);  // the hole is whole again (the split-off rest merges back)
  }
  // Larger than every hole: from the tail, after the last separator.
  void* big = r.allocate(9009);
  EXPECT_GT(addr(big), addr(separators.back()));
  r.deallocate(big, 9009);
  for (void* s : separators) r.deallocate(s, 16);
  expect_fully_coalesced(r);
  EXPECT_EQ(r.inspect().regions, 1u);
}

TEST(BestFitResource, SplitKeepsTheRestOfARegionFree) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  void* p = r.allocate(100);
  auto fs = r.inspect();
  EXPECT_EQ(fs.regions, 1u);
  EXPECT_EQ(fs.free_blocks, 1u);
  EXPECT_EQ(fs.free_bytes, 65536 - kRegionHeader - block_bytes(100));
  EXPECT_EQ(fs.largest_free, fs.free_bytes);
  EXPECT_EQ(r.stats().live_usable_bytes, block_bytes(100) - kTag);
  // The next block starts right after the first one.
  void* q = r.allocate(100);
  EXPECT_EQ(addr(q), addr(p) + block_bytes(100));
  r.deallocate(p, 100);
  r.deallocate(q, 100);
  expect_fully_coalesced(r);
}

// A rest below 64 bytes is not worth a free block: the whole hole is handed out (and its usable
// size reported); from 64 bytes up the rest is split off.
TEST(BestFitResource, SplitsOnlyRestsOfAtLeast64Bytes) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  void* hole = r.allocate(200);  // a 224-byte block
  void* sep = r.allocate(16);
  r.deallocate(hole, 200);
  ASSERT_EQ(r.inspect().free_blocks, 2u);

  // 160 bytes need a 176-byte block: the rest (48) stays with the block.
  void* p = r.allocate(160);
  ASSERT_EQ(p, hole);
  EXPECT_EQ(r.inspect().free_blocks, 1u);
  EXPECT_EQ(r.stats().live_usable_bytes, block_bytes(200) - kTag + block_bytes(16) - kTag);
  r.deallocate(p, 160);

  // 144 bytes need 160: the rest is exactly 64 and becomes a free block of its own.
  p = r.allocate(144);
  ASSERT_EQ(p, hole);
  auto fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 2u);
  EXPECT_EQ(r.stats().live_usable_bytes, 144 + block_bytes(16) - kTag);
  // The 64-byte rest serves a request of up to 48 bytes, in place.
  void* q = r.allocate(48);
  EXPECT_EQ(addr(q), addr(hole) + block_bytes(144));
  EXPECT_EQ(r.inspect().free_blocks, 1u);
  r.deallocate(q, 48);
  r.deallocate(p, 144);
  r.deallocate(sep, 16);
  expect_fully_coalesced(r);
}

// Layout for the coalescing tests: [a][b][c][d][free tail] in one region.
struct four_blocks {
  static constexpr std::size_t kSizes[4] = {100, 200, 300, 400};
  void* p[4];

  explicit four_blocks(best_fit_resource& r) {
    for (int i = 0; i < 4; ++i) p[i] = r.allocate(kSizes[i]);
    for (int i = 1; i < 4; ++i) EXPECT_EQ(addr(p[i]), addr(p[i - 1]) + block_bytes(kSizes[i - 1]));
  }
  static std::size_t block(int i) { return block_bytes(kSizes[i]); }
};

TEST(BestFitResource, FreeMergesWithTheLeftNeighbour) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  four_blocks f(r);
  const std::size_t tail = r.inspect().free_bytes;
  r.deallocate(f.p[0], 100);
  r.deallocate(f.p[1], 200);  // its left neighbour (a) is free
  auto fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 2u);
  EXPECT_EQ(fs.free_bytes, tail + f.block(0) + f.block(1));
  // The merged block serves a request that needs all of it, at a's address.
  const std::size_t merged_payload = f.block(0) + f.block(1) - kTag;
  void* p = r.allocate(merged_payload);
  EXPECT_EQ(p, f.p[0]);
  EXPECT_EQ(r.inspect().free_blocks, 1u);
  r.deallocate(p, merged_payload);
  r.deallocate(f.p[2], 300);
  r.deallocate(f.p[3], 400);
  expect_fully_coalesced(r);
}

TEST(BestFitResource, FreeMergesWithTheRightNeighbour) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  four_blocks f(r);
  const std::size_t tail = r.inspect().free_bytes;
  r.deallocate(f.p[1], 200);
  r.deallocate(f.p[0], 100);  // its right neighbour (b) is free; it is the region's first block
  auto fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 2u);
  EXPECT_EQ(fs.free_bytes, tail + f.block(0) + f.block(1));
  const std::size_t merged_payload = f.block(0) + f.block(1) - kTag;
  void* p = r.allocate(merged_payload);
  EXPECT_EQ(p, f.p[0]);
  r.deallocate(p, merged_payload);

  // d's right neighbour is the free tail, which ends the region: d joins it.
  r.deallocate(f.p[3], 400);
  fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 2u);
  EXPECT_EQ(fs.largest_free, tail + f.block(3));
  r.deallocate(f.p[2], 300);
  expect_fully_coalesced(r);
}

TEST(BestFitResource, FreeMergesWithBothNeighbours) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  four_blocks f(r);
  r.deallocate(f.p[0], 100);
  r.deallocate(f.p[2], 300);
  ASSERT_EQ(r.inspect().free_blocks, 3u);  // a, c and the tail
  r.deallocate(f.p[1], 200);               // between two free blocks
  auto fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 2u);
  const std::size_t merged_payload = f.block(0) + f.block(1) + f.block(2) - kTag;
  void* p = r.allocate(merged_payload);
  EXPECT_EQ(p, f.p[0]);
  EXPECT_EQ(r.inspect().free_blocks, 1u);
  r.deallocate(p, merged_payload);
  // d sits between the merged block and the tail: the whole region becomes one block again.
  r.deallocate(f.p[3], 400);
  fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 1u);
  EXPECT_EQ(fs.largest_free, 65536 - kRegionHeader);
  expect_fully_coalesced(r);
}

// ---------------------------------------------------------------------------------------------------
// Alignment.

TEST(BestFitResource, HonoursEveryAlignmentUpTo4096FromRegions) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  struct live {
    void* p;
    std::size_t bytes, alignment;
  };
  std::vector<live> blocks;
  for (std::size_t alignment = 1; alignment <= 4096; alignment *= 2) {
    for (std::size_t bytes : {0, 1, 17, 100, 1000, 5000}) {
      void* p = r.allocate(bytes, alignment);
      ASSERT_EQ(addr(p) % alignment, 0u) << bytes << " @" << alignment;
      std::memset(p, 0x5a, bytes);
      blocks.push_back({p, bytes, alignment});
    }
  }
  EXPECT_EQ(r.inspect().direct_blocks, 0u) << "alignments up to 4096 must be served from regions";
  // Free in an interleaved order so that front gaps, blocks and rests merge in every combination.
  for (std::size_t i = 0; i < blocks.size(); i += 2) r.deallocate(blocks[i].p, blocks[i].bytes, blocks[i].alignment);
  for (std::size_t i = 1; i < blocks.size(); i += 2) r.deallocate(blocks[i].p, blocks[i].bytes, blocks[i].alignment);
  expect_fully_coalesced(r);
}

// The gap in front of an aligned payload becomes a free block, and merges back on free.
TEST(BestFitResource, AlignedCarveFreesTheFrontGap) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  void* p = r.allocate(100, 4096);
  ASSERT_EQ(addr(p) % 4096, 0u);
  auto fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 2u);  // the front gap and the rest
  EXPECT_EQ(fs.free_bytes, 65536 - kRegionHeader - block_bytes(100));
  // A small request fits in the front gap (it is smaller than the tail).
  void* q = r.allocate(64);
  EXPECT_LT(addr(q), addr(p));
  r.deallocate(q, 64);
  r.deallocate(p, 100, 4096);
  fs = r.inspect();
  EXPECT_EQ(fs.free_blocks, 1u);
  EXPECT_EQ(fs.largest_free, 65536 - kRegionHeader);
}

TEST(BestFitResource, AlignmentsAbove4096GoStraightToUpstream) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  for (std::size_t alignment : {std::size_t(8192), std::size_t(65536)}) {
    void* p = r.allocate(100, alignment);
    EXPECT_EQ(addr(p) % alignment, 0u);
    std::memset(p, 1, 100);
    auto fs = r.inspect();
    EXPECT_EQ(fs.regions, 0u);
    EXPECT_EQ(fs.direct_blocks, 1u);
    resource_stats s = r.stats();
    EXPECT_EQ(s.classes[1].name, "direct");
    EXPECT_EQ(s.classes[1].live_blocks, 1u);
    EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
    EXPECT_EQ(s.live_usable_bytes, 100u);
    r.deallocate(p, 100, alignment);
    EXPECT_EQ(r.inspect().direct_blocks, 0u);
    EXPECT_EQ(up.outstanding_blocks(), 0u);
    EXPECT_EQ(r.stats().bytes_held, 0u);
  }
}

// ---------------------------------------------------------------------------------------------------
// The direct path, region growth, release.

TEST(BestFitResource, DirectThresholdIsInclusiveForRegions) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 16384), &up);
  void* at = r.allocate(16384);  // == threshold: from a region
  auto fs = r.inspect();
  EXPECT_EQ(fs.regions, 1u);
  EXPECT_EQ(fs.direct_blocks, 0u);
  void* above = r.allocate(16385);  // threshold + 1: direct
  fs = r.inspect();
  EXPECT_EQ(fs.regions, 1u);
  EXPECT_EQ(fs.direct_blocks, 1u);
  resource_stats s = r.stats();
  EXPECT_EQ(s.classes[0].allocations, 1u);
  EXPECT_EQ(s.classes[1].allocations, 1u);
  EXPECT_EQ(s.classes[0].bytes_held, 65536u);
  EXPECT_EQ(s.classes[1].bytes_held, up.outstanding_bytes() - 65536);
  EXPECT_GE(s.classes[1].bytes_held, 16385u);
  // deallocate tells the paths apart by the same rule.
  r.deallocate(above, 16385);
  EXPECT_EQ(r.inspect().direct_blocks, 0u);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  r.deallocate(at, 16384);
  s = r.stats();
  EXPECT_EQ(s.classes[0].deallocations, 1u);
  EXPECT_EQ(s.classes[1].deallocations, 1u);
  expect_fully_coalesced(r);
}

TEST(BestFitResource, ZeroThresholdSendsEveryNonEmptyRequestDirect) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 0), &up);
  void* empty = r.allocate(0);
  void* one = r.allocate(1);
  EXPECT_EQ(r.inspect().regions, 1u);
  EXPECT_EQ(r.inspect().direct_blocks, 1u);
  r.deallocate(one, 1);
  r.deallocate(empty, 0);
  EXPECT_EQ(r.inspect().direct_blocks, 0u);
}

TEST(BestFitResource, GrowsARegionForARequestLargerThanRegionBytes) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 1 << 20), &up);
  void* big = r.allocate(200000);
  // One region sized for the block and the region header, rounded up to 4096.
  const std::size_t expected = (block_bytes(200000) + kRegionHeader + 4095) / 4096 * 4096;
  EXPECT_EQ(r.inspect().regions, 1u);
  EXPECT_EQ(r.stats().bytes_held, expected);
  EXPECT_EQ(up.outstanding_bytes(), expected);
  std::memset(big, 7, 200000);
  // The rest of that region (656 bytes) serves a small request without a new region.
  void* small = r.allocate(100);
  EXPECT_EQ(up.allocate_calls(), 1u);
  // Something that fits no free block gets a region of the configured size.
  void* mid = r.allocate(60000);
  EXPECT_EQ(r.inspect().regions, 2u);
  EXPECT_EQ(up.outstanding_bytes(), expected + 65536);
  // A large aligned request: the region also makes room for the front gap.
  void* aligned = r.allocate(300000, 4096);
  EXPECT_EQ(addr(aligned) % 4096, 0u);
  std::memset(aligned, 8, 300000);
  EXPECT_EQ(r.inspect().regions, 3u);
  r.deallocate(aligned, 300000, 4096);
  r.deallocate(mid, 60000);
  r.deallocate(small, 100);
  r.deallocate(big, 200000);
  expect_fully_coalesced(r);
}

TEST(BestFitResource, ReleaseEmptyRegionsGivesBackFullyFreeRegions) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 1 << 20, /*release_empty=*/true), &up);
  void* a = r.allocate(100);
  void* b = r.allocate(200);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  r.deallocate(a, 100);
  EXPECT_EQ(up.outstanding_blocks(), 1u) << "a region still in use went back";
  r.deallocate(b, 200);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(r.inspect().regions, 0u);
  EXPECT_EQ(r.inspect().free_blocks, 0u);
  EXPECT_EQ(r.stats().bytes_held, 0u);

  // Two regions: freeing the second one's only block gives back just that region.
  void* fill = r.allocate(65000);
  void* other = r.allocate(65000);
  ASSERT_EQ(r.inspect().regions, 2u);
  r.deallocate(other, 65000);
  EXPECT_EQ(r.inspect().regions, 1u);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  // The remaining region still works, and a new one comes when needed.
  other = r.allocate(65000);
  EXPECT_EQ(r.inspect().regions, 2u);
  r.deallocate(fill, 65000);
  r.deallocate(other, 65000);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(BestFitResource, WithoutReleaseEmptyRegionsARegionStays) {
  test_upstream up;
  best_fit_resource r(make_options(65536), &up);
  void* a = r.allocate(100);
  r.deallocate(a, 100);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  EXPECT_EQ(r.inspect().regions, 1u);
  // Reused without another upstream call.
  a = r.allocate(100);
  EXPECT_EQ(up.allocate_calls(), 1u);
  r.deallocate(a, 100);
}

TEST(BestFitResource, StatsCountBothPathsAndHeldBytes) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 16384), &up);
  void* a = r.allocate(1000);
  void* b = r.allocate(3000, 256);
  void* c = r.allocate(20000);
  resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 3u);
  EXPECT_EQ(s.live_blocks, 3u);
  EXPECT_EQ(s.live_requested_bytes, 24000u);
  EXPECT_EQ(s.live_usable_bytes, block_bytes(1000) - kTag + block_bytes(3000) - kTag + 20000);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
  EXPECT_EQ(s.peak_bytes_held, s.bytes_held);
  ASSERT_EQ(s.classes.size(), 2u);
  EXPECT_EQ(s.classes[0].name, "regions");
  EXPECT_EQ(s.classes[0].allocations, 2u);
  EXPECT_EQ(s.classes[0].live_blocks, 2u);
  EXPECT_EQ(s.classes[1].name, "direct");
  EXPECT_EQ(s.classes[1].allocations, 1u);
  EXPECT_EQ(s.classes[0].bytes_held + s.classes[1].bytes_held, s.bytes_held);
  r.deallocate(c, 20000);
  r.deallocate(b, 3000, 256);
  r.deallocate(a, 1000);
  s = r.stats();
  EXPECT_EQ(s.deallocations, 3u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_usable_bytes, 0u);
  EXPECT_EQ(s.bytes_held, 65536u);  // the region stays, the direct block went back
  EXPECT_GT(s.peak_bytes_held, s.bytes_held);
  EXPECT_GE(s.peak_live_bytes, 20000u);
}

TEST(BestFitResource, ReleaseGivesEverythingBackAndStaysUsable) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 16384), &up);
  for (int i = 0; i < 10; ++i) (void)r.allocate(30000 - 16384 * (i % 2));  // regions and direct blocks
  (void)r.allocate(100, 8192);
  ASSERT_GT(up.outstanding_blocks(), 2u);
  r.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  resource_stats s = r.stats();
  EXPECT_EQ(s.bytes_held, 0u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.allocations, 11u);  // totals stay
  EXPECT_EQ(s.classes[0].live_blocks, 0u);
  EXPECT_EQ(s.classes[1].live_blocks, 0u);
  auto fs = r.inspect();
  EXPECT_EQ(fs.regions, 0u);
  EXPECT_EQ(fs.free_blocks, 0u);
  EXPECT_EQ(fs.direct_blocks, 0u);
  // Usable after release.
  void* p = r.allocate(500);
  void* q = r.allocate(20000);
  r.deallocate(q, 20000);
  r.deallocate(p, 500);
  expect_fully_coalesced(r);
}

TEST(BestFitResource, DestructorGivesEverythingBack) {
  test_upstream up;
  {
    best_fit_resource r(make_options(65536, 16384), &up);
    (void)r.allocate(100);
    (void)r.allocate(50000);
    (void)r.allocate(10, 16384);
    EXPECT_EQ(up.outstanding_blocks(), 3u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// ---------------------------------------------------------------------------------------------------
// Randomised model tests and upstream failures.

TEST(BestFitResource, RandomisedModelTest) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    for (bool release_empty : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "seed " << seed << ", release_empty " << release_empty);
      test_upstream up;
      // Small regions and threshold, so that growth, the direct path and (optionally) region
      // give-back all happen often.
      best_fit_resource r(make_options(8192, 6000, release_empty, seed % 2 == 0), &up);
      {
        model_checker m(r, [&] { return r.stats(); });
        model_options o;
        o.seed = seed;
        o.operations = 2000;
        o.max_live = 200;
        o.max_size = 10000;
        o.alignments = {1, 8, 16, 32, 64, 256, 1024, 4096, 8192};
        m.run(o);
        EXPECT_EQ(r.stats().bytes_held, up.outstanding_bytes());
        m.free_all();
      }
      r.flush_quarantine();  // checked mode (even seeds) holds the last frees back until then
      EXPECT_EQ(r.stats().live_blocks, 0u);
      expect_fully_coalesced(r);
      if (release_empty) {
        EXPECT_EQ(up.outstanding_blocks(), 0u);
      }
    }
  }
}

// Runs a fixed script covering fresh regions, reuse, growth and the direct path; an allocate that
// throws bad_alloc must leave the free space as it was too. Returns how many allocates threw.
std::size_t run_script(best_fit_resource& r, const std::vector<testing::script_step>& script) {
  return testing::run_random_script(r, script, [&r] {
    return [&r, before = r.inspect()] {
      const auto after = r.inspect();
      EXPECT_EQ(after.regions, before.regions);
      EXPECT_EQ(after.free_blocks, before.free_blocks);
      EXPECT_EQ(after.free_bytes, before.free_bytes);
      EXPECT_EQ(after.direct_blocks, before.direct_blocks);
    };
  });
}

TEST(BestFitResource, UpstreamFailureAtEveryCallLeavesItUsableAndLeakFree) {
  const std::vector<testing::script_step> script =
      testing::make_random_script(42, 300, {0, 24, 200, 1000, 3000, 7000, 15000, 40000}, {1, 16, 64, 4096, 8192});
  testing::expect_every_upstream_failure_survived(
      [&](testing::upstream_failure& f) {
        best_fit_resource r(make_options(32768, 20000, /*release_empty=*/true), &f.up);
        f.arm();
        const std::size_t bad_allocs = run_script(r, script);
        EXPECT_EQ(r.stats().bytes_held, f.up.outstanding_bytes());
        EXPECT_EQ(r.stats().live_blocks, 0u);
        return bad_allocs;
      },
      11);  // the script exercises upstream often
}

// ---------------------------------------------------------------------------------------------------
// Checked mode.

TEST(BestFitResource, CheckedModeReportsDoubleFreeAndForeignPointer) {
  invalid_free_recorder handler;
  auto& reports = invalid_free_recorder::reports();
  test_upstream up;
  best_fit_resource r(make_options(65536, 16384, false, /*checked=*/true), &up);
  void* a = r.allocate(100);
  void* b = r.allocate(200);
  void* d = r.allocate(20000);  // direct
  r.deallocate(a, 100);
  const resource_stats before = r.stats();
  const auto fs_before = r.inspect();

  r.deallocate(a, 100);  // region block, second time
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, invalid_free_kind::double_free);
  EXPECT_EQ(reports[0].pointer, a);
  EXPECT_EQ(reports[0].bytes, 100u);
  EXPECT_EQ(reports[0].resource, "best_fit");

  alignas(16) static std::byte foreign[256];
  r.deallocate(foreign + 64, 100);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(reports[1].pointer, foreign + 64);

  r.deallocate(b, 300);  // live, but the wrong size
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[2].kind, invalid_free_kind::size_mismatch);

  // None of the bad frees changed anything.
  const resource_stats after = r.stats();
  EXPECT_EQ(after.deallocations, before.deallocations);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  EXPECT_EQ(r.inspect().free_blocks, fs_before.free_blocks);
  EXPECT_EQ(r.inspect().free_bytes, fs_before.free_bytes);

  // The direct path is checked too.
  r.deallocate(d, 20000);
  r.deallocate(d, 20000);
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_EQ(reports[3].kind, invalid_free_kind::double_free);
  EXPECT_EQ(r.inspect().direct_blocks, 1u);  // in quarantine until flushed
  r.flush_quarantine();
  EXPECT_EQ(r.inspect().direct_blocks, 0u);

  r.deallocate(b, 200);  // the right size still works
  EXPECT_EQ(reports.size(), 4u);
  EXPECT_EQ(r.stats().live_blocks, 0u);
  r.flush_quarantine();
  expect_fully_coalesced(r);
}

TEST(BestFitResource, CheckedModeCatchesEveryFaultClassInRegionsAndDirectBlocks) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 16384, false, /*checked=*/true), &up);
  {
    SCOPED_TRACE("region block");
    testing::expect_every_fault_class_caught(r, 100, 16, "best_fit");  // payload 112: room for the canary
  }
  {
    SCOPED_TRACE("direct block");
    testing::expect_every_fault_class_caught(r, 20000, 16, "best_fit");  // 8 bytes more from upstream
  }
  r.flush_quarantine();
  EXPECT_EQ(up.outstanding_blocks(), 1u);  // the region only
}

TEST(BestFitResource, CheckedModeRegistryOutOfMemoryChangesNothing) {
  testing::expect_registry_out_of_memory_changes_nothing(
      [](test_upstream& up) {
        return std::make_unique<best_fit_resource>(make_options(1 << 20, 16384, false, /*checked=*/true), &up);
      },
      100, 16);
}

TEST(BestFitResource, CheckedModeForgetsBlocksOnRelease) {
  invalid_free_recorder handler;
  test_upstream up;
  best_fit_resource r(make_options(65536, 256 * 1024, false, /*checked=*/true), &up);
  void* a = r.allocate(100);
  r.release();
  // After release a block handed out before is gone: freeing it is foreign now, not a valid free.
  r.deallocate(a, 100);
  ASSERT_EQ(invalid_free_recorder::reports().size(), 1u);
  EXPECT_EQ(invalid_free_recorder::reports()[0].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// ---------------------------------------------------------------------------------------------------
// Threads (meant for tsan: one mutex must serialise the index and the counters must be race-free).

TEST(BestFitResource, ConcurrentAllocateAndFreeKeepBlocksIntact) {
  test_upstream up;
  best_fit_resource r(make_options(65536, 30000), &up);
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> corrupted(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      struct live {
        unsigned char* p;
        std::size_t bytes;
        unsigned char tag;
      };
      std::vector<live> mine;
      for (int i = 0; i < 1500; ++i) {
        if (mine.size() < 32 && (mine.empty() || rng() % 2 == 0)) {
          const std::size_t bytes = (rng() % 8 == 0) ? 30000 + rng() % 5000 : rng() % 2000;
          auto* p = static_cast<unsigned char*>(r.allocate(bytes, 16));
          const auto tag = static_cast<unsigned char>(t * 31 + i);
          std::memset(p, tag, bytes);
          mine.push_back({p, bytes, tag});
        } else {
          const std::size_t k = rng() % mine.size();
          for (std::size_t j = 0; j < mine[k].bytes; ++j) {
            if (mine[k].p[j] != mine[k].tag) {
              ++corrupted[t];
              break;
            }
          }
          r.deallocate(mine[k].p, mine[k].bytes, 16);
          mine[k] = mine.back();
          mine.pop_back();
        }
      }
      for (const live& b : mine) r.deallocate(b.p, b.bytes, 16);
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(corrupted[t], 0) << "thread " << t;
  const resource_stats s = r.stats();
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.allocations, s.deallocations);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
  expect_fully_coalesced(r);
}

}  // namespace
}  // namespace allocbench
