// The fill pattern and its check (checked mode's write-after-free detection): for every length the
// fill covers exactly the bytes asked for, and a write to any one of them is seen.
#include "allocator/checked_block.h"

#include <gtest/gtest.h>

#include <vector>

namespace allocbench::detail {
namespace {

TEST(CheckedBlock, TheFillCoversExactlyTheBlockAndAnyOverwrittenByteIsSeen) {
  constexpr unsigned char kOutside = 0x5A;
  for (std::size_t n = 1; n <= 300; ++n) {
    std::vector<unsigned char> buf(n + 64, kOutside);
    unsigned char* p = buf.data() + 16;  // not 16-byte aligned relative to the vector's start
    fill_freed(p, n);
    for (std::size_t i = 0; i < 16; ++i) ASSERT_EQ(buf[i], kOutside) << "before the block, n=" << n;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(p[i], kFreedByte) << "n=" << n << " byte " << i;
    for (std::size_t i = n; i < n + 48; ++i) ASSERT_EQ(p[i], kOutside) << "past the block, n=" << n;
    ASSERT_TRUE(fill_intact(p, n)) << n;
    for (std::size_t i = 0; i < n; ++i) {
      p[i] = 0;
      ASSERT_FALSE(fill_intact(p, n)) << "n=" << n << " write at " << i;
      p[i] = kFreedByte;
    }
    p[n] = 0;  // outside the fill: not the check's business
    ASSERT_TRUE(fill_intact(p, n)) << n;
  }
}

TEST(CheckedBlock, OnlyTheFirstKFillLimitBytesOfALargeBlockAreFilled) {
  std::vector<unsigned char> buf(kFillLimit + 256, 0);
  fill_freed(buf.data(), buf.size());
  EXPECT_EQ(buf[kFillLimit - 1], kFreedByte);
  EXPECT_EQ(buf[kFillLimit], 0);
  EXPECT_TRUE(fill_intact(buf.data(), buf.size()));
  buf[kFillLimit - 1] = 1;
  EXPECT_FALSE(fill_intact(buf.data(), buf.size()));
}

}  // namespace
}  // namespace allocbench::detail
