#include "allocator/span_arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <set>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

std::vector<void*> drain_chain(block_chain& chain) {
  std::vector<void*> out;
  for (void* p = chain.head; out.size() < chain.count; p = *static_cast<void**>(p)) out.push_back(p);
  chain = block_chain{};
  return out;
}

// Exactly `n` blocks, over as many takes as that needs (a take carves at most a page).
std::vector<void*> take_blocks(span_arena& arena, std::size_t n) {
  std::vector<void*> out;
  while (out.size() < n) {
    block_chain chain;
    arena.take(chain, n - out.size());
    for (void* p : drain_chain(chain)) out.push_back(p);
  }
  return out;
}

TEST(SpanArena, TakesBlocksFromOneAlignedSpan) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(64, 64, 64 * 1024, up, counters);
  EXPECT_EQ(arena.span_bytes(), 64u * 1024);
  EXPECT_EQ(arena.blocks_per_span(), (64u * 1024 - 64) / 64);
  block_chain chain;
  EXPECT_EQ(arena.take(chain, 10), 10u);
  EXPECT_EQ(up.allocate_calls(), 1u);
  EXPECT_EQ(arena.bytes_held(), 64u * 1024);
  std::set<void*> seen;
  for (void* p : drain_chain(chain)) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
    EXPECT_TRUE(seen.insert(p).second);
    arena.give(p);
  }
  arena.release_all();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(SpanArena, LargeClassesGetLargerSpans) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(32768, 4096, 64 * 1024, up, counters);
  EXPECT_GE(arena.blocks_per_span(), span_arena::kMinBlocksPerSpan);
  EXPECT_EQ(arena.span_bytes() & (arena.span_bytes() - 1), 0u);
  block_chain chain;
  arena.take(chain, 2);
  for (void* p : drain_chain(chain)) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 4096, 0u);
    arena.give(p);
  }
}

// The blocks of `spans` spans, each taken whole (take() empties a span before it adopts the next).
std::vector<void*> take_whole_spans(span_arena& arena, int spans) {
  return take_blocks(arena, static_cast<std::size_t>(spans) * arena.blocks_per_span());
}

std::uintptr_t offset_in_span(const span_arena& arena, const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) & (arena.span_bytes() - 1);
}

// Where the blocks of successive spans start (cache colouring).
struct SpanColours : ::testing::Test {
  test_upstream up;
  stats_counters counters;
};

// Spans are aligned to their size, so without colouring the i-th block of every span of class 5120
// starts at the same offset modulo 64 KiB, and all of them at one of 4 offsets modulo 4096.
TEST_F(SpanColours, SuccessiveSpansStartTheirBlocksOnDifferentLines) {
  span_arena arena(5120, 64, 64 * 1024, up, counters);
  std::set<std::uintptr_t> lines_in_page;
  std::set<std::uintptr_t> first_blocks;
  for (void* p : take_whole_spans(arena, 64)) {
    EXPECT_LE(offset_in_span(arena, p) + 5120, arena.span_bytes());  // a colour never pushes a block out
    lines_in_page.insert(reinterpret_cast<std::uintptr_t>(p) % 4096 / 64);
    if (offset_in_span(arena, p) < 5120) first_blocks.insert(offset_in_span(arena, p));
  }
  EXPECT_EQ(lines_in_page.size(), 64u);  // every line of a page, where 4 without colours
  EXPECT_EQ(first_blocks.size(), 64u);
  arena.release_all();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// A colour is a multiple of the block alignment: for 8192-byte blocks aligned to 4096, whose spans
// have one page of slack, spans alternate between blocks at 0 and at 4096 modulo 8192.
TEST_F(SpanColours, KeepTheBlockAlignment) {
  span_arena arena(8192, 4096, 64 * 1024, up, counters);
  std::set<std::uintptr_t> offsets;
  for (void* p : take_whole_spans(arena, 4)) {
    EXPECT_LE(offset_in_span(arena, p) + 8192, arena.span_bytes());
    offsets.insert(reinterpret_cast<std::uintptr_t>(p) % 8192);
  }
  EXPECT_EQ(offsets, (std::set<std::uintptr_t>{0, 4096}));
  arena.release_all();
}

TEST(SpanArena, ShortBatchRatherThanANewSpan) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(64, 64, 4096, up, counters);  // 63 blocks per span, all within one page's carve
  const std::size_t per_span = arena.blocks_per_span();
  block_chain chain;
  EXPECT_EQ(arena.take(chain, per_span - 1), per_span - 1);
  block_chain more;
  EXPECT_EQ(arena.take(more, 5), 1u);  // what is left, no upstream call
  EXPECT_EQ(up.allocate_calls(), 1u);
  block_chain again;
  EXPECT_EQ(arena.take(again, 5), 5u);  // none left: a new span
  EXPECT_EQ(up.allocate_calls(), 2u);
}

TEST(SpanArena, ATakeCarvesAtMostAPageOfNeverUsedBlocks) {
  // A refill writes every block's link word, so each fresh page its blocks lie on is a page fault
  // inside the caller's allocate: a take carves at most a page's worth (the first block whatever
  // its size) and leaves the rest of the span for the next take.
  test_upstream up;
  stats_counters counters;
  span_arena arena(256, 16, 64 * 1024, up, counters);
  block_chain first;
  EXPECT_EQ(arena.take(first, 32), 16u);  // 4096 / 256
  block_chain second;
  EXPECT_EQ(arena.take(second, 32), 16u);
  EXPECT_EQ(up.allocate_calls(), 1u);  // the same span, carved further
  EXPECT_EQ(static_cast<char*>(second.head) - static_cast<char*>(first.tail), 256);  // the next block on
  // Never-used blocks come out at rising addresses, one stride apart (the order a hardware
  // prefetcher follows: python_json ran 10 % faster than with the batch built last block first).
  {
    char* prev = nullptr;
    std::size_t seen = 0;
    for (void* p = first.head; seen < first.count; p = *static_cast<void**>(p), ++seen) {
      if (prev != nullptr) EXPECT_EQ(static_cast<char*>(p) - prev, 256) << "block " << seen;
      prev = static_cast<char*>(p);
    }
  }
  // Blocks given back are no carving: a take moves as many of them as it is asked for.
  for (void* p : drain_chain(first)) arena.give(p);
  for (void* p : drain_chain(second)) arena.give(p);
  block_chain again;
  EXPECT_EQ(arena.take(again, 32), 32u);
  for (void* p : drain_chain(again)) arena.give(p);
  // Blocks of a page or more: one per take.
  span_arena large(8192, 4096, 64 * 1024, up, counters);
  block_chain one;
  EXPECT_EQ(large.take(one, 4), 1u);
  for (void* p : drain_chain(one)) large.give(p);
  arena.release_all();
  large.release_all();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(SpanArena, ReleaseUnusedReturnsOnlyEntirelyFreeSpans) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(1024, 1024, 16 * 1024, up, counters);
  const std::size_t per_span = arena.blocks_per_span();
  std::vector<void*> blocks;
  for (int span = 0; span < 3; ++span) {
    for (void* p : take_blocks(arena, per_span)) blocks.push_back(p);
  }
  ASSERT_EQ(arena.span_count(), 3u);
  // Free everything except one block of the second span.
  void* kept = blocks[per_span + 1];
  *static_cast<std::uint64_t*>(kept) = 0x1234;
  for (void* p : blocks) {
    if (p != kept) arena.give(p);
  }
  EXPECT_EQ(arena.release_unused(), 2 * arena.span_bytes());
  EXPECT_EQ(arena.span_count(), 1u);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  EXPECT_EQ(*static_cast<std::uint64_t*>(kept), 0x1234u);
  EXPECT_EQ(arena.release_unused(), 0u);
  arena.give(kept);
  EXPECT_EQ(arena.release_unused(), arena.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(arena.bytes_held(), 0u);
}

TEST(SpanArena, PartlyUsedSpansAreFilledFirst) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(1024, 1024, 16 * 1024, up, counters);
  const std::size_t per_span = arena.blocks_per_span();
  const std::vector<void*> first = take_blocks(arena, per_span);
  const std::vector<void*> second = take_blocks(arena, per_span);
  block_chain chain;
  for (void* p : first) arena.give(p);  // first span entirely free
  arena.give(second[0]);                // second span has one free block
  arena.take(chain, 1);
  EXPECT_EQ(chain.head, second[0]);
  arena.give(chain.head);
  for (std::size_t i = 1; i < per_span; ++i) arena.give(second[i]);
}

TEST(SpanArena, UpstreamThrowChangesNothing) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(64, 64, 64 * 1024, up, counters);
  up.fail_at(1);
  block_chain chain;
  EXPECT_THROW(arena.take(chain, 4), std::bad_alloc);
  EXPECT_EQ(chain.count, 0u);
  EXPECT_EQ(arena.span_count(), 0u);
  EXPECT_EQ(arena.bytes_held(), 0u);
  EXPECT_EQ(arena.take(chain, 4), 4u);
}

// Hands out blocks 16 bytes past an aligned address: ignores the alignment asked for.
class misaligning_upstream : public std::pmr::memory_resource {
 public:
  std::size_t outstanding = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    ++outstanding;
    auto* base = static_cast<std::byte*>(::operator new(bytes + 16, std::align_val_t(alignment)));
    return base + 16;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    --outstanding;
    ::operator delete(static_cast<std::byte*>(p) - 16, bytes + 16, std::align_val_t(alignment));
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
};

TEST(SpanArena, UpstreamIgnoringAlignmentIsABadAllocNotCorruption) {
  misaligning_upstream up;
  stats_counters counters;
  span_arena arena(64, 64, 64 * 1024, up, counters);
  block_chain chain;
  EXPECT_THROW(arena.take(chain, 1), std::bad_alloc);
  EXPECT_EQ(up.outstanding, 0u);
  EXPECT_EQ(arena.span_count(), 0u);
}

// A take moves a span's given-back blocks as one splice when it wants them all, or their first k
// when it wants fewer: the chain's links, tail and count must hold either way, and no block may be
// lost or handed out twice.
TEST(SpanArena, GivenBackBlocksComeBackWholeOrAsAPrefix) {
  test_upstream up;
  stats_counters counters;
  span_arena arena(64, 64, 64 * 1024, up, counters);
  const std::vector<void*> blocks = take_blocks(arena, 40);
  for (void* p : blocks) arena.give(p);
  block_chain chain;
  ASSERT_EQ(arena.take(chain, 10), 10u);  // the last 10 given, newest first
  const std::vector<void*> ten = drain_chain(chain);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(ten[i], blocks[39 - i]) << i;
  // A chain already holding blocks: the rest (30) go in front of it in one splice, then carving.
  block_chain held;
  held.push(ten[0]);
  ASSERT_EQ(arena.take(held, 31), 31u);
  EXPECT_EQ(held.count, 32u);
  EXPECT_EQ(held.tail, ten[0]);
  std::set<void*> seen;
  void* last = nullptr;
  for (void* p = held.head; p != nullptr && seen.size() < held.count; p = *static_cast<void**>(p)) {
    EXPECT_TRUE(seen.insert(p).second) << "handed out twice: " << p;
    last = p;
  }
  EXPECT_EQ(seen.size(), 32u);
  EXPECT_EQ(last, held.tail);
  for (std::size_t i = 0; i < 30; ++i) EXPECT_EQ(seen.count(blocks[i]), 1u) << i;
  EXPECT_EQ(seen.count(blocks[39]), 1u);  // ten[0]
  // One never-used block carved after the list ran out: not one of the 40.
  std::size_t carved = 0;
  for (void* p : seen) carved += std::find(blocks.begin(), blocks.end(), p) == blocks.end();
  EXPECT_EQ(carved, 1u);
}

TEST(BlockChain, PrependPutsAWholeChainInFront) {
  alignas(8) char blocks[4][16];
  block_chain back;
  back.push(blocks[0]);
  block_chain front;
  front.push(blocks[1]);
  front.push(blocks[2]);  // front: 2 -> 1
  back.prepend(front);
  EXPECT_EQ(back.count, 3u);
  EXPECT_EQ(back.head, blocks[2]);
  EXPECT_EQ(*reinterpret_cast<void**>(blocks[2]), blocks[1]);
  EXPECT_EQ(*reinterpret_cast<void**>(blocks[1]), blocks[0]);
  EXPECT_EQ(back.tail, blocks[0]);
  block_chain empty;
  empty.prepend(front);  // onto nothing: takes the front's tail
  EXPECT_EQ(empty.tail, blocks[1]);
  EXPECT_EQ(empty.count, 2u);
  back.prepend(block_chain{});  // nothing to add
  EXPECT_EQ(back.count, 3u);
}

}  // namespace
}  // namespace allocbench::detail
