#include "allocator/free_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace allocbench::detail {
namespace {

struct alignas(alignof(void*)) slot {
  unsigned char bytes[16];
};

TEST(FreeList, StartsEmpty) {
  free_list l;
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.pop(), nullptr);
}

TEST(FreeList, PopsInReverseOrderOfPush) {
  slot s[4];
  free_list l;
  for (slot& x : s) l.push(&x);
  EXPECT_EQ(l.size(), 4u);
  for (int i = 3; i >= 0; --i) EXPECT_EQ(l.pop(), &s[i]);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.pop(), nullptr);
}

TEST(FreeList, LinkSurvivesUserDataWrittenBeforePush) {
  slot s[2];
  for (slot& x : s) std::fill(std::begin(x.bytes), std::end(x.bytes), 0xAB);
  free_list l;
  l.push(&s[0]);
  l.push(&s[1]);
  EXPECT_EQ(l.pop(), &s[1]);
  EXPECT_EQ(l.pop(), &s[0]);
}

TEST(FreeList, MoveToMovesAtMostCount) {
  slot s[5];
  free_list from, to;
  for (slot& x : s) from.push(&x);
  EXPECT_EQ(from.move_to(to, 3), 3u);
  EXPECT_EQ(from.size(), 2u);
  EXPECT_EQ(to.size(), 3u);
  EXPECT_EQ(from.move_to(to, 10), 2u);
  EXPECT_TRUE(from.empty());
  EXPECT_EQ(to.size(), 5u);
  // Every block is still there exactly once.
  std::vector<void*> seen;
  while (void* p = to.pop()) seen.push_back(p);
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(seen[i], &s[i]);
}

TEST(FreeList, ClearForgetsEverything) {
  slot s[3];
  free_list l;
  for (slot& x : s) l.push(&x);
  l.clear();
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.pop(), nullptr);
}

}  // namespace
}  // namespace allocbench::detail
