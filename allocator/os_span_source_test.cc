#include "allocator/os_span_source.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <set>
#include <thread>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "pmr/testing/resident_pages.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::resident_page_count;

constexpr std::size_t kSpan = 64 * 1024;

bool aligned(void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

TEST(OsSpanSource, SpansAreAlignedToTheirSizeAndDistinct) {
  os_span_source source;
  std::set<void*> seen;
  std::vector<std::pair<void*, std::size_t>> out;
  for (std::size_t bytes : {kSpan, 128 * kSpan / 64, 4 * kSpan, kSpan, 16 * kSpan, kSpan}) {
    void* p = source.allocate(bytes, bytes);
    EXPECT_TRUE(aligned(p, bytes)) << bytes;
    EXPECT_TRUE(seen.insert(p).second);
    std::memset(p, 0xab, bytes);  // writable, every byte
    out.emplace_back(p, bytes);
  }
  EXPECT_EQ(source.bytes_out(), 2 * kSpan + 4 * kSpan + kSpan + 16 * kSpan + kSpan + kSpan);
  for (auto [p, bytes] : out) source.deallocate(p, bytes, bytes);
  EXPECT_EQ(source.bytes_out(), 0u);
}

// The point of the source: a span given back leaves no resident page behind (an aligned operator new
// would keep them), and the next span of that size reuses the range, zeroed.
TEST(OsSpanSource, GivenBackSpansLeaveNoResidentPagesAndComeBackZeroed) {
  os_span_source source(0, false);  // keeps no page
  void* p = source.allocate(kSpan, kSpan);
  std::memset(p, 0xcd, kSpan);
  EXPECT_EQ(resident_page_count(p, kSpan), kSpan / 4096);
  source.deallocate(p, kSpan, kSpan);
  EXPECT_EQ(resident_page_count(p, kSpan), 0u);
  void* again = source.allocate(kSpan, kSpan);
  EXPECT_EQ(again, p);
  const auto* bytes = static_cast<const unsigned char*>(again);
  for (std::size_t i = 0; i < kSpan; i += 512) ASSERT_EQ(bytes[i], 0u) << i;
  source.deallocate(again, kSpan, kSpan);
}

// Without the peak, up to keep_resident_bytes of given-back spans keep their pages (no fault on
// reuse); the next one does not, and release_resident() gives the kept ones back.
TEST(OsSpanSource, KeepsPagesOfGivenBackSpansUpToItsBound) {
  os_span_source source(2 * kSpan, false);
  std::vector<void*> spans;
  for (int i = 0; i < 3; ++i) {
    spans.push_back(source.allocate(kSpan, kSpan));
    std::memset(spans.back(), 0x5a, kSpan);
  }
  for (void* p : spans) source.deallocate(p, kSpan, kSpan);
  EXPECT_EQ(source.bytes_kept_resident(), 2 * kSpan);
  EXPECT_EQ(resident_page_count(spans[0], kSpan), kSpan / 4096);
  EXPECT_EQ(resident_page_count(spans[1], kSpan), kSpan / 4096);
  EXPECT_EQ(resident_page_count(spans[2], kSpan), 0u);
  // A kept span is reused first, pages and all.
  void* again = source.allocate(kSpan, kSpan);
  EXPECT_EQ(again, spans[1]);
  EXPECT_EQ(static_cast<unsigned char*>(again)[100], 0x5au);
  source.deallocate(again, kSpan, kSpan);
  EXPECT_EQ(source.release_resident(), 2 * kSpan);
  EXPECT_EQ(source.bytes_kept_resident(), 0u);
  EXPECT_EQ(resident_page_count(spans[0], kSpan), 0u);
  EXPECT_EQ(resident_page_count(spans[1], kSpan), 0u);
}

std::uint64_t g_now_ms = 1000000;
std::uint64_t test_clock() noexcept { return g_now_ms; }

std::vector<void*> take_written(os_span_source& source, std::size_t n, std::size_t bytes) {
  std::vector<void*> spans;
  for (std::size_t i = 0; i < n; ++i) {
    spans.push_back(source.allocate(bytes, bytes));
    std::memset(spans.back(), 0x3c, bytes);
  }
  return spans;
}

// The default: spans given back under the recent peak of bytes out keep their pages (a heap that
// frees a third of its blocks and allocates them again faults nothing back in); once the heap stays
// small the peak halves each second, and the next call gives the pages past it back, down to the
// floor.
TEST(OsSpanSource, KeepsPagesUpToThePeakOfSpansInUseWhileThePeakDecays) {
  const std::size_t floor = 4 * kSpan;
  os_span_source source(floor);
  source.set_clock(&test_clock);
  const std::size_t n = 16;
  std::vector<void*> spans = take_written(source, n, kSpan);
  for (void* p : spans) source.deallocate(p, kSpan, kSpan);
  EXPECT_EQ(source.bytes_kept_resident(), n * kSpan);
  EXPECT_EQ(resident_page_count(spans, kSpan), n * kSpan / 4096);

  g_now_ms += 1000;  // one halving: 16 spans -> 8
  source.deallocate(source.allocate(kSpan, kSpan), kSpan, kSpan);
  EXPECT_EQ(source.bytes_kept_resident(), n * kSpan / 2);
  EXPECT_EQ(resident_page_count(spans, kSpan), n * kSpan / 2 / 4096);

  g_now_ms += 5000;  // far below the floor: the floor stays
  source.deallocate(source.allocate(kSpan, kSpan), kSpan, kSpan);
  EXPECT_EQ(source.bytes_kept_resident(), floor);
  EXPECT_EQ(resident_page_count(spans, kSpan), floor / 4096);
  EXPECT_EQ(source.release_resident(), floor);
}

// Kept spans of one size do not stand beside new spans of another past the peak.
TEST(OsSpanSource, NewSpansOfAnotherSizeDoNotStackOnKeptOnesPastThePeak) {
  const std::size_t floor = 4 * kSpan;
  os_span_source source(floor);
  source.set_clock(&test_clock);
  const std::size_t n = 16;
  std::vector<void*> small = take_written(source, n, kSpan);
  for (void* p : small) source.deallocate(p, kSpan, kSpan);
  ASSERT_EQ(source.bytes_kept_resident(), n * kSpan);
  std::vector<void*> large = take_written(source, n / 4, 4 * kSpan);
  EXPECT_EQ(source.bytes_out(), n * kSpan);
  EXPECT_EQ(source.bytes_kept_resident(), floor);
  EXPECT_EQ(resident_page_count(small, kSpan), floor / 4096);
  for (void* p : large) source.deallocate(p, 4 * kSpan, 4 * kSpan);
}

TEST(OsSpanSource, SpansLargerThanACarvedOneGetTheirOwnMapping) {
  os_span_source source;
  const std::size_t big = os_span_source::kMaxCarvedBytes * 2;
  void* p = source.allocate(big, big);
  EXPECT_TRUE(aligned(p, big));
  static_cast<char*>(p)[big - 1] = 1;
  EXPECT_EQ(source.bytes_mapped(), big);  // no region reserved for it
  source.deallocate(p, big, big);
  EXPECT_EQ(source.bytes_mapped(), 0u);
  EXPECT_EQ(source.bytes_out(), 0u);
}

TEST(OsSpanSource, RegionsGrowWhenOneIsCarvedUp) {
  os_span_source source;
  const std::size_t bytes = os_span_source::kMaxCarvedBytes;
  std::vector<void*> spans;
  for (std::size_t i = 0; i < os_span_source::kRegionBytes / bytes + 1; ++i) spans.push_back(source.allocate(bytes, bytes));
  EXPECT_GE(source.bytes_mapped(), 2 * os_span_source::kRegionBytes);
  for (void* p : spans) {
    EXPECT_TRUE(aligned(p, bytes));
    source.deallocate(p, bytes, bytes);
  }
}

TEST(OsSpanSource, BadRequestsThrowAndChangeNothing) {
  os_span_source source;
  EXPECT_THROW((void)source.allocate(kSpan, 3 * 4096), std::invalid_argument);
  EXPECT_THROW((void)source.allocate(SIZE_MAX - 20, 64), std::bad_alloc);
  EXPECT_EQ(source.bytes_out(), 0u);
  EXPECT_EQ(source.bytes_mapped(), 0u);
}

TEST(OsSpanSource, SmallRequestsGetAtLeastAPage) {
  os_span_source source;
  void* p = source.allocate(100, 8);
  EXPECT_TRUE(aligned(p, 4096));
  EXPECT_EQ(source.bytes_out(), 4096u);
  source.deallocate(p, 100, 8);
}

// Threads fetching and returning spans at once (what central lists of different classes do): each
// thread stamps its spans and checks the stamp before giving them back, so two threads handed one
// range would see each other's stamp. ThreadSanitizer checks the locking.
TEST(OsSpanSource, ThreadsFetchAndReturnSpansAtOnce) {
  os_span_source source;
  std::vector<std::thread> threads;
  std::atomic<int> clashes{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<void*, std::size_t>> mine;
      for (int i = 0; i < 300; ++i) {
        const std::size_t bytes = kSpan << (i % 3);
        void* p = source.allocate(bytes, bytes);
        *static_cast<int*>(p) = t + 1;
        mine.emplace_back(p, bytes);
        if (i % 2 == 1) {
          auto [q, qbytes] = mine.front();
          mine.erase(mine.begin());
          if (*static_cast<int*>(q) != t + 1) ++clashes;
          source.deallocate(q, qbytes, qbytes);
        }
      }
      for (auto [p, bytes] : mine) {
        if (*static_cast<int*>(p) != t + 1) ++clashes;
      }
      // The rest goes back with the source.
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(clashes.load(), 0);
}

}  // namespace
}  // namespace allocbench::detail
