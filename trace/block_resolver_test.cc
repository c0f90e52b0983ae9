// Block resolution: the streams merge by time, addresses become blocks, cross-thread frees and
// reallocs are found, and what is never freed or never allocated is accounted for.
#include "trace/block_resolver.h"

#include <gtest/gtest.h>

#include "trace/testing/test_events.h"

namespace allocbench::trace {
namespace {

template <typename... A>
event ev(A... a) {
  return testing::make_event(a...);
}

TEST(BlockResolver, CrossThreadFreesReallocsAndAddressReuse) {
  trace_data t;
  t.header.clock_hz = 1'000'000'000;
  thread_stream a{0, {}, 0}, b{1, {}, 0};
  a.events = {ev(10, event_kind::malloc, 0x100, 64),          // block 0, freed by b
              ev(40, event_kind::malloc, 0x100, 32),          // block 2: address reused after b's free
              ev(50, event_kind::realloc, 0x100, 96, 0x200),  // block 2 -> block 3
              ev(60, event_kind::free, 0x999)};               // never allocated here
  b.events = {ev(20, event_kind::malloc, 0x300, 1000),  // block 1, live at the end
              ev(30, event_kind::free, 0x100)};
  t.threads = {a, b};
  const resolved_trace r = resolve_blocks(t);
  ASSERT_EQ(r.blocks.size(), 4u);
  EXPECT_EQ(r.allocations, 3u);
  EXPECT_EQ(r.reallocs, 1u);
  EXPECT_EQ(r.frees, 1u);
  EXPECT_EQ(r.cross_thread, 1u);
  EXPECT_EQ(r.unmatched_frees, 1u);
  EXPECT_EQ(r.live_at_end, 2u);  // block 1 and block 3
  EXPECT_EQ(r.peak_live_bytes, 1096u);  // 1000 + the realloc's 96 after its 32 went back
  EXPECT_EQ(r.blocks[0].free_thread, 1u);
  EXPECT_EQ(r.blocks[0].free_ticks, 30u);

  ASSERT_EQ(r.threads[0].ops.size(), 4u);  // alloc, alloc, realloc, then its live block 3 freed
  EXPECT_EQ(r.threads[0].ops[2].kind, resolved_kind::realloc);
  EXPECT_EQ(r.threads[0].ops[2].block, 2u);
  EXPECT_EQ(r.threads[0].ops[2].new_block, 3u);
  EXPECT_EQ(r.threads[0].ops[3].kind, resolved_kind::free);
  EXPECT_EQ(r.threads[0].ops[3].block, 3u);
  ASSERT_EQ(r.threads[1].ops.size(), 3u);
  EXPECT_EQ(r.threads[1].ops[1].kind, resolved_kind::free);
  EXPECT_EQ(r.threads[1].ops[1].block, 0u);
  EXPECT_TRUE(r.threads[1].ops[1].remote);
  EXPECT_FALSE(r.threads[1].ops[2].remote);  // its own live block, at the end
}

TEST(BlockResolver, AlignmentAndReallocEdgeCases) {
  trace_data t;
  thread_stream a{0, {}, 0};
  event aligned = ev(1, event_kind::posix_memalign, 0x1000, 10);
  aligned.flags = kFlagAlign;
  aligned.align_log2 = 12;
  a.events = {aligned, ev(2, event_kind::realloc, 0, 50, 0x2000),  // realloc(NULL, 50)
              ev(3, event_kind::realloc, 0x2000, 0, 0),              // realloc(p, 0) freed p
              ev(4, event_kind::free, 0x1000)};
  t.threads = {a};
  const resolved_trace r = resolve_blocks(t);
  ASSERT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].alignment, 4096u);
  EXPECT_EQ(r.blocks[1].alignment, 16u);
  EXPECT_EQ(r.live_at_end, 0u);
  EXPECT_EQ(r.frees, 2u);
  ASSERT_EQ(r.threads[0].ops.size(), 4u);
  EXPECT_EQ(r.threads[0].ops[2].kind, resolved_kind::free);
}

// One clock reading per several events (trace_format.h): thread b's free of a's block carries b's
// last reading, older than a's allocation. The merge follows the addresses within the readings'
// windows instead of taking the free as unmatched and the reuse as an allocation at a live address.
TEST(BlockResolver, CoarseReadingsFollowTheAddresses) {
  trace_data t;
  thread_stream a{0, {}, 0}, b{1, {}, 0};
  a.events = {ev(100, event_kind::malloc, 0x100, 64),  // a reading
              ev(100, event_kind::malloc, 0x200, 8),   // none: between 100 and 300
              ev(300, event_kind::free, 0x300)};       // b's block
  b.events = {ev(90, event_kind::malloc, 0x300, 16),   // a reading
              ev(90, event_kind::free, 0x100),         // none: between 90 and 200, after a's malloc
              ev(90, event_kind::malloc, 0x100, 32),   // the freed address again
              ev(200, event_kind::free, 0x100)};
  t.threads = {a, b};
  const resolved_trace r = resolve_blocks(t);
  EXPECT_EQ(r.unmatched_frees, 0u);
  EXPECT_EQ(r.reused_live, 0u);
  EXPECT_EQ(r.cross_thread, 2u);
  EXPECT_EQ(r.frees, 3u);
  EXPECT_EQ(r.live_at_end, 1u);  // a's 0x200
  ASSERT_EQ(r.threads[1].ops.size(), 4u);
  EXPECT_EQ(r.threads[1].ops[1].kind, resolved_kind::free);
  EXPECT_TRUE(r.threads[1].ops[1].remote);
  const resolved_block& handed = r.blocks[r.threads[1].ops[1].block];
  EXPECT_EQ(handed.thread, 0u);
  EXPECT_EQ(handed.free_ticks, 100u);  // b's reading (90) is older than the allocation: never before it
  EXPECT_EQ(r.peak_live_bytes, 16u + 64u);  // b's 0x300 and a's 0x100, before b freed it
}

// A free of an address nobody allocated is passed over only while another head may precede it; it
// is then taken (and counted unmatched) without holding its stream back to the end.
TEST(BlockResolver, AnUnknownFreeWaitsOnlyWithinItsWindow) {
  trace_data t;
  thread_stream a{0, {}, 0}, b{1, {}, 0};
  a.events = {ev(10, event_kind::free, 0x999), ev(20, event_kind::malloc, 0x100, 8)};
  b.events = {ev(15, event_kind::malloc, 0x200, 8), ev(1000, event_kind::free, 0x200)};
  t.threads = {a, b};
  const resolved_trace r = resolve_blocks(t);
  EXPECT_EQ(r.unmatched_frees, 1u);
  EXPECT_EQ(r.frees, 1u);
  EXPECT_EQ(r.blocks.size(), 2u);
  EXPECT_EQ(r.blocks[0].thread, 1u);  // b's malloc at 15 went before a's free (window 10..20)
  EXPECT_EQ(r.blocks[1].thread, 0u);  // and a's malloc at 20 before b's free at 1000
  EXPECT_LT(r.blocks[1].alloc_ticks, r.blocks[0].free_ticks);
}

}  // namespace
}  // namespace allocbench::trace
