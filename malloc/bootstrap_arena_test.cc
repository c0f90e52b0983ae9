#include "malloc/bootstrap_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace allocbench::malloc_detail {
namespace {

struct arena_fixture {
  std::unique_ptr<page_map> pages = std::make_unique<page_map>();
  bootstrap_arena arena{*pages};
};

TEST(BootstrapArenaTest, BlocksAreAlignedSizedAndTaggedInThePageMap) {
  arena_fixture f;
  for (std::size_t alignment : {16, 64, 256, 4096}) {
    for (std::size_t bytes : {0, 1, 16, 17, 100, 4000, 65000}) {
      void* p = f.arena.allocate(bytes, alignment);
      ASSERT_NE(p, nullptr) << bytes << " " << alignment;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignment, 0u);
      EXPECT_GE(bootstrap_arena::usable_size(p), bytes);
      EXPECT_EQ(f.pages->lookup(p), page_code::kMeta);
      std::memset(p, 0xab, bytes);
      f.arena.deallocate(p);
    }
  }
  EXPECT_EQ(f.arena.live_blocks(), 0u);
}

TEST(BootstrapArenaTest, RefusesWhatItCannotServe) {
  arena_fixture f;
  EXPECT_EQ(f.arena.allocate(bootstrap_arena::kMaxBytes + 1), nullptr);
  EXPECT_EQ(f.arena.allocate(16, 8192), nullptr);
  EXPECT_EQ(f.arena.live_blocks(), 0u);
}

TEST(BootstrapArenaTest, FreedBlocksAreReusedAndLiveOnesDistinct) {
  arena_fixture f;
  std::set<void*> live;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(live.insert(f.arena.allocate(48)).second);
  void* one = *live.begin();
  f.arena.deallocate(one);
  EXPECT_EQ(f.arena.allocate(40), one);  // same class, last freed first
  for (void* p : live) f.arena.deallocate(p);
  EXPECT_EQ(f.arena.bytes_mapped(), bootstrap_arena::kChunkBytes);
}

TEST(BootstrapArenaTest, ThreadsAllocateAndFreeEachOthersBlocks) {
  arena_fixture f;
  constexpr int kBlocks = 500;
  std::vector<void*> a(kBlocks), b(kBlocks);
  std::thread ta([&] { for (auto& p : a) p = f.arena.allocate(24); });
  std::thread tb([&] { for (auto& p : b) p = f.arena.allocate(200, 64); });
  ta.join();
  tb.join();
  std::thread fa([&] { for (void* p : b) f.arena.deallocate(p); });
  std::thread fb([&] { for (void* p : a) f.arena.deallocate(p); });
  fa.join();
  fb.join();
  EXPECT_EQ(f.arena.live_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench::malloc_detail
