// The front end's conventions through its sm_* functions, in a process whose malloc stays glibc's (or
// a sanitizer's): these run under every config. replaced_malloc_test checks the same names as the
// process's malloc.
#include "malloc/front_end.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include "malloc/os_pages.h"

namespace allocbench {
namespace {

constexpr std::size_t kHuge = std::size_t(-1);

bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

TEST(FrontEndTest, MallocZeroIsUniqueAndNonNull) {
  void* a = sm_malloc(0);
  void* b = sm_malloc(0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a, b);
  sm_free(a);
  sm_free(b);
}

TEST(FrontEndTest, UsableSizeCoversTheRequestAndBlocksAreSixteenAligned) {
  std::vector<void*> blocks;
  for (std::size_t n = 0; n < 80000; n = n < 64 ? n + 1 : n + n / 7) {
    void* p = sm_malloc(n);
    ASSERT_NE(p, nullptr) << n;
    EXPECT_TRUE(aligned(p, 16)) << n;
    EXPECT_GE(sm_malloc_usable_size(p), n);
    std::memset(p, 0x5a, n);
    blocks.push_back(p);
  }
  for (void* p : blocks) sm_free(p);
  EXPECT_EQ(sm_malloc_usable_size(nullptr), 0u);
}

TEST(FrontEndTest, LargeBlocksStartOnAPageWithNoHeaderInFront) {
  void* p = sm_malloc(1 << 20);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned(p, malloc_detail::kPageBytes));
  EXPECT_EQ(sm_malloc_usable_size(p), std::size_t(1) << 20);
  sm_free(p);
}

// sqlite's page cache asks for many blocks of 4368 bytes (a 4 KiB page and its header). With every
// block at one of 4 offsets modulo 4096 the pages' headers share 4 of a page's 64 cache lines;
// coloured spans (allocator/span_arena.h) spread them over all of them.
TEST(FrontEndTest, BlocksOfOneClassStartOnEveryLineOfAPage) {
  std::vector<void*> blocks;
  std::set<std::uintptr_t> lines;
  for (int i = 0; i < 1000; ++i) {
    void* p = sm_malloc(4368);
    ASSERT_NE(p, nullptr);
    lines.insert(reinterpret_cast<std::uintptr_t>(p) % 4096 / 64);
    blocks.push_back(p);
  }
  for (void* p : blocks) sm_free(p);
  EXPECT_EQ(lines.size(), 64u);
}

TEST(FrontEndTest, CallocZeroesReusedBlocksAndRejectsOverflow) {
  void* dirty = sm_malloc(200);
  std::memset(dirty, 0xff, 200);
  sm_free(dirty);
  auto* z = static_cast<unsigned char*>(sm_calloc(10, 20));
  ASSERT_NE(z, nullptr);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(z[i], 0) << i;
  sm_free(z);
  errno = 0;
  EXPECT_EQ(sm_calloc(kHuge / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  auto* big = static_cast<unsigned char*>(sm_calloc(1, 300000));
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big[299999], 0);
  sm_free(big);
}

TEST(FrontEndTest, ImpossibleSizesAreNullWithEnomem) {
  for (std::size_t n : {kHuge, kHuge - 4096, kHuge / 2, std::size_t(1) << 48}) {
    errno = 0;
    EXPECT_EQ(sm_malloc(n), nullptr) << n;
    EXPECT_EQ(errno, ENOMEM) << n;
  }
  void* p = sm_malloc(10);
  std::memcpy(p, "keep", 5);
  errno = 0;
  EXPECT_EQ(sm_realloc(p, kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_STREQ(static_cast<char*>(p), "keep");  // untouched, still ours
  sm_free(p);
  errno = 0;
  EXPECT_EQ(sm_memalign(64, kHuge - 10), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(sm_pvalloc(kHuge - 10), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(FrontEndTest, PosixMemalignRejectsBadAlignmentsWithEinvalAndLeavesErrno) {
  void* out = reinterpret_cast<void*>(0x1);
  for (std::size_t a : {std::size_t(0), std::size_t(1), std::size_t(4), std::size_t(24), std::size_t(48),
                        std::size_t(3) << 20}) {
    errno = 1234;
    EXPECT_EQ(sm_posix_memalign(&out, a, 16), EINVAL) << a;
    EXPECT_EQ(errno, 1234);
    EXPECT_EQ(out, reinterpret_cast<void*>(0x1));
  }
  errno = 1234;
  EXPECT_EQ(sm_posix_memalign(&out, 64, kHuge / 2), ENOMEM);
  EXPECT_EQ(errno, 1234);
}

TEST(FrontEndTest, AlignedRequestsOfEverySourceHonourTheirAlignment) {
  for (std::size_t a = 8; a <= (std::size_t(1) << 21); a *= 2) {
    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(100), std::size_t(5000),
                          std::size_t(40000), std::size_t(300000)}) {
      void* p = nullptr;
      ASSERT_EQ(sm_posix_memalign(&p, a, n), 0) << a << " " << n;
      EXPECT_TRUE(aligned(p, a)) << a << " " << n;
      EXPECT_GE(sm_malloc_usable_size(p), n);
      std::memset(p, 1, n);
      sm_free(p);
    }
  }
}

TEST(FrontEndTest, MemalignRoundsAnAlignmentUpAndRejectsOnePastTheLargest) {
  void* p = sm_memalign(24, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned(p, 32));
  sm_free(p);
  errno = 0;
  EXPECT_EQ(sm_memalign((std::size_t(1) << 63) + 1, 1), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void* v = sm_valloc(10);
  EXPECT_TRUE(aligned(v, 4096));
  sm_free(v);
  void* pv = sm_pvalloc(0);
  EXPECT_TRUE(aligned(pv, 4096));
  EXPECT_GE(sm_malloc_usable_size(pv), 4096u);
  sm_free(pv);
}

TEST(FrontEndTest, ReallocConventionsAndContentAcrossEverySource) {
  auto* p = static_cast<unsigned char*>(sm_realloc(nullptr, 24));  // malloc
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 24; ++i) p[i] = static_cast<unsigned char>(i);
  // Small -> small -> large -> larger (remapped) -> small: the prefix survives each move.
  for (std::size_t n : {std::size_t(24), std::size_t(1000), std::size_t(100000), std::size_t(5000000),
                        std::size_t(3000000), std::size_t(40)}) {
    p = static_cast<unsigned char*>(sm_realloc(p, n));
    ASSERT_NE(p, nullptr) << n;
    EXPECT_GE(sm_malloc_usable_size(p), n);
    for (int i = 0; i < 24; ++i) ASSERT_EQ(p[i], i) << n;
  }
  const sm_stats before = sm_collect_stats();
  EXPECT_EQ(sm_realloc(p, 0), nullptr);  // frees
  const sm_stats after = sm_collect_stats();
  EXPECT_EQ(after.deallocations, before.deallocations + 1);
  sm_free(nullptr);
  EXPECT_EQ(sm_reallocarray(nullptr, kHuge / 2, 4), nullptr);
}

TEST(FrontEndTest, NewThrowsOrReturnsNullAndCallsTheNewHandler) {
  EXPECT_EQ(sm_new(kHuge / 2, 0, true), nullptr);
  EXPECT_THROW(sm_new(kHuge / 2, 64, false), std::bad_alloc);
  static int calls = 0;
  calls = 0;
  std::set_new_handler([] {
    ++calls;
    std::set_new_handler(nullptr);
  });
  EXPECT_THROW(sm_new(kHuge / 2, 0, false), std::bad_alloc);
  EXPECT_EQ(calls, 1);
  void* p = sm_new(100, 256, false);
  EXPECT_TRUE(aligned(p, 256));
  sm_free(p);
}

// Each thread allocates, then every block is freed by another thread than the one that made it.
TEST(FrontEndTest, ThreadsFreeEachOthersBlocks) {
  constexpr int kThreads = 4, kBlocks = 3000;
  const sm_stats before = sm_collect_stats();
  std::vector<std::vector<void*>> made(kThreads, std::vector<void*>(kBlocks));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kBlocks; ++i) {
        const std::size_t n = std::size_t(8 + (i * 37 + t * 11) % 2000);
        made[t][i] = sm_malloc(n);
        std::memset(made[t][i], t, n);
      }
    });
  }
  for (auto& th : threads) th.join();
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (void* p : made[(t + 1) % kThreads]) sm_free(p);
    });
  }
  for (auto& th : threads) th.join();
  const sm_stats after = sm_collect_stats();
  EXPECT_EQ(after.allocations - after.deallocations, before.allocations - before.deallocations);
}

// A thread_local constructed before the thread's first call is destroyed after the engine's exit
// hook has taken the thread's cache away: its destructor must still allocate and free.
bool g_late_allocation_worked = false;

struct allocates_at_exit {
  ~allocates_at_exit() {
    void* p = sm_malloc(100);
    g_late_allocation_worked = p != nullptr && sm_malloc_usable_size(p) >= 100;
    if (p != nullptr) std::memset(p, 0, 100);
    sm_free(p);
  }
};
thread_local allocates_at_exit t_late;

TEST(FrontEndTest, AThreadWhoseCacheIsGoneStillAllocates) {
  g_late_allocation_worked = false;
  std::thread t([] {
    (void)&t_late;           // constructed first, so destroyed after the engine's exit hook
    sm_free(sm_malloc(64));  // attaches the cache
  });
  t.join();
  EXPECT_TRUE(g_late_allocation_worked);
}

}  // namespace
}  // namespace allocbench
