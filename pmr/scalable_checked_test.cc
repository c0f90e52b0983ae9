// scalable_resource in checked mode, the header path (allocator/checked_header.h): every kind of
// pointer that is not a live block of this resource is reported as foreign without being read, two
// threads freeing one block at once give exactly one report, and a thread's quarantine ring gives
// its blocks back (fill checked) when the thread exits. Synchronisation is by join and barriers.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "allocator/checked_header.h"
#include "pmr/scalable_resource.h"
#include "pmr/testing/contract_checks.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::test_upstream;

scalable_options checked() {
  scalable_options o;
  o.checked = true;
  return o;
}

// A free of q must be reported as foreign and change nothing.
void expect_foreign(scalable_resource& r, void* q, std::size_t bytes, const char* what) {
  SCOPED_TRACE(what);
  const testing::throwing_invalid_free_handler handler;
  const resource_stats before = r.stats();
  EXPECT_THROW(r.deallocate(q, bytes, 16), std::runtime_error);
  testing::expect_caught(invalid_free_kind::foreign_pointer, q, bytes, "scalable");
  testing::expect_same_counts(before, r.stats());
}

TEST(ScalableChecked, EveryKindOfForeignPointerIsReportedWithoutBeingRead) {
  test_upstream up;
  scalable_resource r(checked(), &up);
  scalable_resource other(checked(), &up);
  auto* p = static_cast<char*>(r.allocate(64, 16));
  void* theirs = other.allocate(64, 16);
  expect_foreign(r, theirs, 64, "another resource's block");
  void* heap = std::malloc(128);
  expect_foreign(r, static_cast<char*>(heap) + 16, 64, "a malloc'd block");
  std::free(heap);
  alignas(64) char stack[256] = {};
  expect_foreign(r, stack + 16, 64, "a stack address");
  for (std::size_t off : {1, 8, 16, 24, 32}) expect_foreign(r, p + off, 32, "an interior pointer");
  expect_foreign(r, p - detail::kCheckedHeaderBytes, 64, "the block's engine start");
  // A block of this resource's spans that is not live: freed, and out of quarantine since.
  auto* q = static_cast<char*>(r.allocate(64, 16));
  r.deallocate(q, 64, 16);
  r.flush_quarantine();
  expect_foreign(r, q, 64, "a freed block past quarantine");
  // The span's own header (spans are aligned to their size, at least 4 KiB).
  const auto span = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t(4095);
  expect_foreign(r, reinterpret_cast<void*>(span + detail::kCheckedHeaderBytes), 64, "a span's start");
  // A stray write over the header: the checksum no longer holds, the free is refused.
  auto* s = static_cast<char*>(r.allocate(64, 16));
  std::uint64_t saved;
  std::memcpy(&saved, s - 8, 8);
  const std::uint64_t smashed = saved ^ 0x10000;  // another requested size
  std::memcpy(s - 8, &smashed, 8);
  expect_foreign(r, s, 64, "a block whose header was overwritten");
  std::memcpy(s - 8, &saved, 8);
  r.deallocate(s, 64, 16);
  r.deallocate(p, 64, 16);
  other.deallocate(theirs, 64, 16);
  r.flush_quarantine();
  other.flush_quarantine();
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// The handler of the two-thread test: counts reports from any thread.
std::atomic<int> g_double_frees{0};
std::atomic<int> g_other_reports{0};
void count_report(const invalid_free_report& r) {
  if (r.kind == invalid_free_kind::double_free) g_double_frees.fetch_add(1);
  else g_other_reports.fetch_add(1);
}

TEST(ScalableChecked, TwoThreadsFreeingOneBlockAtOnceGiveExactlyOneReport) {
  test_upstream up;
  scalable_resource r(checked(), &up);
  const invalid_free_handler previous = set_invalid_free_handler(&count_report);
  g_double_frees = 0;
  g_other_reports = 0;
  constexpr int kRounds = 500;
  std::vector<void*> blocks;
  for (int i = 0; i < kRounds; ++i) blocks.push_back(r.allocate(48, 16));
  std::barrier sync(2);
  const auto racer = [&] {
    for (int i = 0; i < kRounds; ++i) {
      sync.arrive_and_wait();  // both threads free block i together
      r.deallocate(blocks[std::size_t(i)], 48, 16);
    }
    // Neither thread exits (giving its ring back) before the other's last free.
    sync.arrive_and_wait();
  };
  std::thread a(racer), b(racer);
  a.join();
  b.join();
  set_invalid_free_handler(previous);
  EXPECT_EQ(g_double_frees.load(), kRounds);
  EXPECT_EQ(g_other_reports.load(), 0);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.deallocations, std::uint64_t(kRounds));
  EXPECT_EQ(s.live_blocks, 0u);
}

// A thread's ring goes back when it exits: its blocks are free again (statistics, reuse), and a
// write into one of them while it waited is reported then.
TEST(ScalableChecked, AThreadsQuarantineIsCheckedAndGivenBackAtItsExit) {
  testing::invalid_free_recorder recorder;
  test_upstream up;
  scalable_resource r(checked(), &up);
  void* dangling = nullptr;
  std::thread t([&] {
    std::vector<void*> mine;
    for (int i = 0; i < 5; ++i) mine.push_back(r.allocate(100, 16));
    for (void* p : mine) r.deallocate(p, 100, 16);
    dangling = mine[2];
    static_cast<unsigned char*>(dangling)[7] = 0;  // a write after free, still in the ring
  });
  t.join();
  ASSERT_EQ(recorder.reports().size(), 1u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::write_after_free);
  EXPECT_EQ(recorder.reports()[0].pointer, dangling);
  EXPECT_EQ(recorder.reports()[0].bytes, 100u);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 5u);
  EXPECT_EQ(s.deallocations, 5u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_requested_bytes, 0u);
}

// A write `offset` bytes into a freed block of `bytes`: whether the resource reports it when the
// block leaves quarantine. The same block is then freed and reused without a report.
bool write_after_free_caught(scalable_resource& r, std::size_t bytes, std::size_t alignment, std::size_t offset) {
  testing::invalid_free_recorder recorder;
  r.flush_quarantine();
  auto* p = static_cast<unsigned char*>(r.allocate(bytes, alignment));
  std::memset(p, 0x5a, bytes);
  r.deallocate(p, bytes, alignment);
  p[offset] = 0x11;
  r.flush_quarantine();
  const bool caught = recorder.reports().size() == 1 && recorder.reports()[0].kind == invalid_free_kind::write_after_free &&
                      recorder.reports()[0].pointer == p;
  EXPECT_LE(recorder.reports().size(), 1u);
  EXPECT_EQ(r.stats().live_blocks, 0u);
  return caught;
}

// checked_fill_bytes bounds the fill: by default a freed block's first 32 bytes are checked, on the
// header path (256 B) and through the registry (8 KiB, 64-aligned) alike; 4096 reaches further.
TEST(ScalableChecked, TheFillCoversCheckedFillBytes) {
  test_upstream up;
  scalable_resource by_default(checked(), &up);
  EXPECT_EQ(by_default.checked_fill_bytes(), detail::kDefaultCheckedFillBytes);
  for (const std::size_t alignment : {std::size_t(16), std::size_t(64)}) {
    SCOPED_TRACE(alignment);
    const std::size_t bytes = alignment == 16 ? 256 : 8192;
    EXPECT_TRUE(write_after_free_caught(by_default, bytes, alignment, 0));
    EXPECT_TRUE(write_after_free_caught(by_default, bytes, alignment, detail::kDefaultCheckedFillBytes - 1));
    EXPECT_FALSE(write_after_free_caught(by_default, bytes, alignment, detail::kDefaultCheckedFillBytes));
  }
  scalable_options o = checked();
  o.checked_fill_bytes = 4096;
  scalable_resource far(o, &up);
  EXPECT_TRUE(write_after_free_caught(far, 256, 16, 200));
  EXPECT_TRUE(write_after_free_caught(far, 8192, 64, 4095));
  EXPECT_FALSE(write_after_free_caught(far, 8192, 64, 4096));
  o.checked_fill_bytes = 0;  // no fill: the other checks stay
  scalable_resource none(o, &up);
  EXPECT_FALSE(write_after_free_caught(none, 256, 16, 0));
  o.checked_fill_bytes = 4097;
  EXPECT_THROW(scalable_resource(o, &up), std::invalid_argument);
}

// Classes that cannot hold a header block (max_small 16; classes none of which is a multiple of 16,
// or only small ones) send requests to the registry instead, where the header path would have put
// them on the large path, whose blocks the span map does not know: found by the layout fuzzer, a
// free of allocate(0, 1) with max_small 16 was reported as a foreign pointer.
TEST(ScalableChecked, ClassesWithoutRoomForAHeaderUseTheRegistry) {
  struct layout_case {
    std::vector<std::size_t> classes;
    std::size_t max_small;
  };
  for (const layout_case& l : {layout_case{{}, 16}, layout_case{{8, 24, 40, 1000}, 0}, layout_case{{16, 24, 1000}, 0}}) {
    SCOPED_TRACE(l.classes.empty() ? std::string("max_small 16") : std::to_string(l.classes.back()));
    testing::invalid_free_recorder recorder;
    test_upstream up;
    scalable_options o = checked();
    if (l.classes.empty()) {
      o.max_small = l.max_small;
      o.small_step = 8;
      o.small_step_limit = 16;
    } else {
      o.classes = l.classes;
    }
    scalable_resource r(o, &up);
    std::vector<std::pair<void*, std::size_t>> blocks;
    for (const std::size_t bytes : {std::size_t(0), std::size_t(1), std::size_t(8), std::size_t(16), std::size_t(100), std::size_t(900)}) {
      void* p = r.allocate(bytes, 1);
      std::memset(p, 0x5a, bytes);
      blocks.emplace_back(p, bytes);
    }
    for (const auto& [p, bytes] : blocks) r.deallocate(p, bytes, 1);
    r.flush_quarantine();
    EXPECT_TRUE(recorder.reports().empty()) << recorder.reports().size() << " reports, the first "
                                            << (recorder.reports().empty() ? 0 : int(recorder.reports()[0].kind));
    EXPECT_EQ(r.stats().live_blocks, 0u);
    // And the checks still work there: a second free is a double free.
    void* p = r.allocate(0, 1);
    r.deallocate(p, 0, 1);
    r.deallocate(p, 0, 1);
    ASSERT_EQ(recorder.reports().size(), 1u);
    EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::double_free);
  }
}

// Requests the header path does not serve (over-aligned, large) still get every check, through the
// registry; a free with the other path's size or alignment is a mismatch, not a foreign pointer.
TEST(ScalableChecked, RegistryBlocksBesideHeaderBlocks) {
  test_upstream up;
  scalable_resource r(checked(), &up);
  {
    SCOPED_TRACE("over-aligned");
    testing::expect_every_fault_class_caught(r, 200, 64, "scalable");
  }
  const testing::throwing_invalid_free_handler handler;
  void* h = r.allocate(64, 16);
  EXPECT_THROW(r.deallocate(h, 64, 64), std::runtime_error);
  testing::expect_caught(invalid_free_kind::size_mismatch, h, 64, "scalable");
  EXPECT_THROW(r.deallocate(h, 100000, 16), std::runtime_error);
  testing::expect_caught(invalid_free_kind::size_mismatch, h, 100000, "scalable");
  void* a = r.allocate(64, 64);
  EXPECT_THROW(r.deallocate(a, 64, 16), std::runtime_error);
  testing::expect_caught(invalid_free_kind::size_mismatch, a, 64, "scalable");
  r.deallocate(a, 64, 64);
  r.deallocate(h, 64, 16);
  r.flush_quarantine();
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// Every block of many spans of each class is a valid block start: a span arena that started the
// blocks of later spans further on (cache colouring) would have them reported as foreign, since
// the span map finds a block start from a class's fixed first-block offset.
TEST(ScalableChecked, BlocksOfEverySpanOfAClassAreFreedWithoutAReport) {
  test_upstream up;
  scalable_resource r(checked(), &up);
  const testing::throwing_invalid_free_handler handler;
  for (std::size_t bytes = 8; bytes <= 1000; bytes += 24) {
    SCOPED_TRACE(bytes);
    std::vector<void*> blocks(4 * 64 * 1024 / bytes);  // several spans' worth
    for (void*& p : blocks) p = r.allocate(bytes, 8);
    for (void* p : blocks) EXPECT_NO_THROW(r.deallocate(p, bytes, 8));
  }
  r.flush_quarantine();
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

}  // namespace
}  // namespace allocbench
