// The glibc names as this process's malloc (linked with //malloc:scalable_malloc_lib): conventions,
// every operator new/delete form, threads that free each other's blocks, fork() while other threads
// allocate. Not under asan/tsan, whose runtimes are the process's malloc there (BUILD.bazel).
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "malloc/front_end.h"

namespace {

// Called through pointers the compiler cannot see through, so that it does not fold malloc's
// documented results (a failed malloc(SIZE_MAX), say) at compile time.
void* (*volatile p_malloc)(std::size_t) = malloc;
void* (*volatile p_calloc)(std::size_t, std::size_t) = calloc;
void* (*volatile p_realloc)(void*, std::size_t) = realloc;
void* (*volatile p_aligned_alloc)(std::size_t, std::size_t) = aligned_alloc;
void* (*volatile p_memalign)(std::size_t, std::size_t) = memalign;

constexpr std::size_t kHuge = std::size_t(-1);

bool aligned(const void* p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

TEST(ReplacedMallocTest, TheProcessMallocIsTheEngine) {
  void* p = p_malloc(20);
  // The engine's class for 20 bytes is 32; glibc's chunk would give 24.
  EXPECT_EQ(malloc_usable_size(p), 32u);
  free(p);
  EXPECT_GT(allocbench::sm_collect_stats().allocations, 0u);
  char* s = new char[20];
  EXPECT_EQ(malloc_usable_size(s), 32u);
  delete[] s;
  std::vector<int> v(5);
  EXPECT_EQ(malloc_usable_size(v.data()), 32u);
}

TEST(ReplacedMallocTest, GlibcConventions) {
  void* a = p_malloc(0);
  void* b = p_malloc(0);
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a, b);
  free(a);
  free(b);
  errno = 0;
  EXPECT_EQ(p_calloc(kHuge / 8, 16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(p_malloc(kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void* out = nullptr;
  EXPECT_EQ(posix_memalign(&out, 24, 10), EINVAL);
  EXPECT_EQ(posix_memalign(&out, 0, 10), EINVAL);
  ASSERT_EQ(posix_memalign(&out, 4096, 10), 0);
  EXPECT_TRUE(aligned(out, 4096));
  free(out);
  void* r = p_realloc(nullptr, 100);
  ASSERT_NE(r, nullptr);
  EXPECT_GE(malloc_usable_size(r), 100u);
  EXPECT_EQ(p_realloc(r, 0), nullptr);
  void* al = p_aligned_alloc(256, 1000);
  EXPECT_TRUE(aligned(al, 256));
  free(al);
  void* m = p_memalign(48, 10);  // rounded up to 64
  EXPECT_TRUE(aligned(m, 64));
  free(m);
  void* v = valloc(1);
  EXPECT_TRUE(aligned(v, 4096));
  free(v);
  void* pv = pvalloc(1);
  EXPECT_GE(malloc_usable_size(pv), 4096u);
  free(pv);
  for (std::size_t n : {1, 15, 17, 1000, 32768, 32769, 1000000}) {
    void* p = p_malloc(n);
    EXPECT_GE(malloc_usable_size(p), n);
    free(p);
  }
  free(nullptr);
}

struct alignas(512) over_aligned {
  char bytes[100];
};

TEST(ReplacedMallocTest, EveryOperatorNewAndDeleteForm) {
  int* one = new int(7);
  delete one;
  int* arr = new int[10];
  delete[] arr;
  auto* oa = new over_aligned;
  EXPECT_TRUE(aligned(oa, 512));
  delete oa;
  auto* oas = new over_aligned[3];
  EXPECT_TRUE(aligned(oas, 512));
  delete[] oas;
  void* n = ::operator new(64, std::nothrow);
  ::operator delete(n, std::nothrow);
  void* na = ::operator new[](64, std::nothrow);
  ::operator delete[](na, std::nothrow);
  void* a = ::operator new(64, std::align_val_t(128));
  EXPECT_TRUE(aligned(a, 128));
  ::operator delete(a, 64, std::align_val_t(128));
  void* aa = ::operator new[](64, std::align_val_t(128), std::nothrow);
  EXPECT_TRUE(aligned(aa, 128));
  ::operator delete[](aa, std::align_val_t(128), std::nothrow);
  void* s = ::operator new(48);
  ::operator delete(s, 48);
  void* sa = ::operator new[](48);
  ::operator delete[](sa, 48);
  EXPECT_EQ(::operator new(kHuge / 2, std::nothrow), nullptr);
  EXPECT_THROW((void)::operator new(kHuge / 2), std::bad_alloc);
}

TEST(ReplacedMallocTest, ThreadsFreeEachOthersBlocks) {
  constexpr int kThreads = 4, kBlocks = 2000;
  std::vector<std::vector<char*>> made(kThreads, std::vector<char*>(kBlocks));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kBlocks; ++i) {
        const std::size_t n = std::size_t(1 + (i * 31 + t) % 3000);
        made[t][i] = i % 2 == 0 ? static_cast<char*>(malloc(n)) : new char[n];
        std::memset(made[t][i], t, n);
      }
    });
  }
  for (auto& th : threads) th.join();
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      const auto& theirs = made[(t + 1) % kThreads];
      for (int i = 0; i < kBlocks; ++i) {
        if (theirs[i][0] != char((t + 1) % kThreads)) std::abort();
        if (i % 2 == 0) free(theirs[i]);
        else delete[] theirs[i];
      }
    });
  }
  for (auto& th : threads) th.join();
}

// What a child does after fork(): allocate, free, start a thread that does the same. Its exit code
// says whether everything came back as asked.
int child_work() {
  std::vector<void*> blocks;
  for (int i = 0; i < 2000; ++i) {
    void* p = malloc(std::size_t(1 + i * 13 % 50000));
    if (p == nullptr) return 2;
    blocks.push_back(p);
  }
  for (void* p : blocks) free(p);
  bool ok = false;
  std::thread t([&ok] {
    std::vector<std::string> strings(500, std::string(100, 'x'));
    ok = strings.back().size() == 100;
  });
  t.join();
  return ok ? 0 : 3;
}

TEST(ReplacedMallocTest, ForkWhileOtherThreadsAllocateThenAllocateInTheChild) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int t = 0; t < 3; ++t) {
    churn.emplace_back([&stop, t] {
      std::vector<void*> held(64, nullptr);
      for (std::size_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        void*& slot = held[i % held.size()];
        free(slot);
        slot = malloc(std::size_t(16 + (i * 97 + std::size_t(t)) % 70000));
      }
      for (void* p : held) free(p);
    });
  }
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child_work());
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << "child " << i << " did not exit: status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child " << i;
  }
  stop = true;
  for (auto& th : churn) th.join();
}

}  // namespace
