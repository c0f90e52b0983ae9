#include "allocator/size_class_map.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace allocbench::detail {
namespace {

TEST(SizeClassMap, DefaultClassesAreFineAtSmallSizesThenFourPerDoubling) {
  const std::vector<std::size_t> sizes = size_class_map::class_sizes({});
  const std::vector<std::size_t> head = {16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320};
  ASSERT_GE(sizes.size(), head.size());
  EXPECT_EQ(std::vector<std::size_t>(sizes.begin(), sizes.begin() + head.size()), head);
  EXPECT_EQ(sizes.back(), 32768u);
  EXPECT_EQ(sizes.size(), 40u);  // 8 fixed steps + 4 per doubling from 128 to 32 KiB
}

TEST(SizeClassMap, EveryRequestWastesLittle) {
  const size_class_map map({});
  for (std::size_t bytes = 1; bytes <= map.max_small(); ++bytes) {
    const std::size_t usable = map.size(map.class_of(bytes));
    ASSERT_GE(usable, bytes);
    if (bytes <= 128) {
      ASSERT_LT(usable - bytes, 16u) << bytes;
    } else {
      ASSERT_LE(double(usable) / double(bytes), 1.25) << bytes;
    }
  }
}

TEST(SizeClassMap, LookupBoundaries) {
  const size_class_map map({});
  auto usable = [&](std::size_t bytes) { return map.size(map.class_of(bytes)); };
  EXPECT_EQ(usable(0), 16u);
  EXPECT_EQ(usable(1), 16u);
  EXPECT_EQ(usable(16), 16u);
  EXPECT_EQ(usable(17), 32u);
  EXPECT_EQ(usable(128), 128u);
  EXPECT_EQ(usable(129), 160u);
  EXPECT_EQ(usable(256), 256u);
  EXPECT_EQ(usable(257), 320u);
  EXPECT_EQ(usable(32767), 32768u);
  EXPECT_EQ(usable(32768), 32768u);
  EXPECT_EQ(map.class_for(32769, 1), size_class_map::npos);
}

TEST(SizeClassMap, BlockAlignmentIsTheLowestBitCappedAt4096ForPowersOfTwoAnd64ForTheRest) {
  const size_class_map map({});
  auto align_of = [&](std::size_t bytes) { return map.alignment(map.class_of(bytes)); };
  EXPECT_EQ(align_of(64), 64u);
  EXPECT_EQ(align_of(80), 16u);
  EXPECT_EQ(align_of(96), 32u);
  EXPECT_EQ(align_of(192), 64u);
  EXPECT_EQ(align_of(256), 256u);
  EXPECT_EQ(align_of(4096), 4096u);
  EXPECT_EQ(align_of(8192), 4096u);
  // Not powers of two: a line, whatever their lowest bit (256, 1024, 4096), so that their spans can
  // be coloured (span_arena.h).
  EXPECT_EQ(align_of(768), 64u);
  EXPECT_EQ(align_of(5120), 64u);
  EXPECT_EQ(align_of(12288), 64u);
}

TEST(SizeClassMap, AlignedRequestsWalkUpToAnAlignedClass) {
  const size_class_map map({});
  auto usable = [&](std::size_t bytes, std::size_t alignment) {
    const std::size_t c = map.class_for(bytes, alignment);
    return c == size_class_map::npos ? 0 : map.size(c);
  };
  EXPECT_EQ(usable(64, 64), 64u);
  EXPECT_EQ(usable(65, 64), 128u);
  EXPECT_EQ(usable(100, 64), 128u);
  EXPECT_EQ(usable(192, 64), 192u);
  EXPECT_EQ(usable(576, 64), 640u);
  EXPECT_EQ(usable(960, 64), 1024u);
  EXPECT_EQ(usable(80, 32), 96u);
  EXPECT_EQ(usable(16, 4096), 4096u);
  EXPECT_EQ(usable(3000, 1024), 4096u);  // 3072 is only a line aligned
  EXPECT_EQ(usable(4368, 128), 8192u);
  EXPECT_EQ(usable(1, 8192), 0u);  // no class is that aligned: the large path
  EXPECT_EQ(usable(20, 16), 32u);
}

TEST(SizeClassMap, SpacingParameters) {
  size_class_params p;
  p.small_step = 8;
  p.small_step_limit = 32;
  p.classes_per_doubling = 1;
  p.max_small = 1000;
  EXPECT_EQ(size_class_map::class_sizes(p),
            (std::vector<std::size_t>{8, 16, 24, 32, 64, 128, 256, 512, 1000}));
  p.classes_per_doubling = 2;
  p.max_small = 256;
  EXPECT_EQ(size_class_map::class_sizes(p), (std::vector<std::size_t>{8, 16, 24, 32, 48, 64, 96, 128, 192, 256}));
}

TEST(SizeClassMap, ExplicitClasses) {
  size_class_params p;
  p.classes = {24, 40, 4096};
  const size_class_map map(p);
  EXPECT_EQ(map.count(), 3u);
  EXPECT_EQ(map.max_small(), 4096u);
  EXPECT_EQ(map.size(map.class_of(0)), 24u);
  EXPECT_EQ(map.size(map.class_of(25)), 40u);
  EXPECT_EQ(map.size(map.class_of(41)), 4096u);
  EXPECT_EQ(map.alignment(0), 8u);
}

TEST(SizeClassMap, RejectsBadParameters) {
  auto build = [](size_class_params p) { size_class_map m(p); };
  size_class_params p;
  p.classes = {12};
  EXPECT_THROW(build(p), std::invalid_argument);
  p.classes = {32, 16};
  EXPECT_THROW(build(p), std::invalid_argument);
  p.classes = {16, 16};
  EXPECT_THROW(build(p), std::invalid_argument);
  p.classes = {size_class_map::kMaxSmallLimit + 8};
  EXPECT_THROW(build(p), std::invalid_argument);
  p.classes.clear();
  for (std::size_t i = 1; i <= size_class_map::kMaxClasses + 1; ++i) p.classes.push_back(8 * i);
  EXPECT_THROW(build(p), std::invalid_argument);

  size_class_params q;
  q.small_step = 12;
  EXPECT_THROW(build(q), std::invalid_argument);
  q = {};
  q.classes_per_doubling = 0;
  EXPECT_THROW(build(q), std::invalid_argument);
  q = {};
  q.max_small = 128 * 1024;
  EXPECT_THROW(build(q), std::invalid_argument);
  q = {};
  q.small_step_limit = 8;
  EXPECT_THROW(build(q), std::invalid_argument);
  q = {};
  q.max_small = 1001;
  EXPECT_THROW(build(q), std::invalid_argument);
  q = {};
  q.classes_per_doubling = 64;  // 440 classes up to 32 KiB: more than the table holds
  EXPECT_THROW(build(q), std::invalid_argument);
  q.max_small = 1024;  // steps below 8 bytes are rounded up to 8 and stay unique
  EXPECT_NO_THROW(build(q));
}

}  // namespace
}  // namespace allocbench::detail
