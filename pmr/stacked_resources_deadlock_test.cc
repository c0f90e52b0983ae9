// Resources stacked on resources with thread caches (issue 15, defect 2): a thread that exits
// flushes its cache while another thread grows a span through the upstream on that thread's first
// upstream call. With the flush under the registry mutex and the span fetched under the shard lock,
// the two took the locks in opposite orders and deadlocked. Each test forces that interleaving
// deterministically and runs under a watchdog, so that a regression fails instead of hanging.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory_resource>
#include <thread>

#include "pmr/fixed_slab_resource.h"
#include "pmr/scalable_resource.h"
#include "pmr/testing/test_upstream.h"
#include "pmr/testing/watchdog.h"

namespace allocbench {
namespace {

using testing::run_with_watchdog;
using testing::test_upstream;

// Forwards to another resource; once armed, the next allocate runs a hook first, on the calling
// thread, inside the upstream call of the resource above.
class gated_upstream : public std::pmr::memory_resource {
 public:
  explicit gated_upstream(std::pmr::memory_resource& next) : next_(next) {}
  void arm(std::function<void()> hook) { hook_ = std::move(hook); armed_.store(true); }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (armed_.exchange(false)) hook_();
    return next_.allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    next_.deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }

  std::pmr::memory_resource& next_;
  std::atomic<bool> armed_{false};
  std::function<void()> hook_;
};

// One shard and 4 KiB spans: a span holds 15 blocks of 256 B, fewer than a refill batch, so the
// exiting thread's cache holds every block of the only span and the next refill must grow.
scalable_options outer_options() {
  scalable_options o;
  o.checked = false;
  o.span_bytes = 4096;
  o.central_shards = 1;
  return o;
}

// Thread E fills its cache with every block of the outer's only span; thread G then refills, which
// fetches a span through `gate` into `inner` for the first time on G. Inside that upstream call G lets
// E exit and waits until E's exit has taken its cache off the outer's list (thread_count() falls to
// 1), then lets the call reach `inner`, which attaches G's first cache there. Before the fix E's
// exit held the registry mutex while it waited for the shard lock G held, and G's thread_count()
// waited for the registry mutex: a deadlock on every run.
void exit_during_first_upstream_growth(std::pmr::memory_resource& inner) {
  gated_upstream gate(inner);
  scalable_resource outer(outer_options(), &gate);

  std::atomic<int> phase{0};  // 1: E's cache is full; 2: G is inside the upstream call; 3: E may exit
  std::thread e([&] {
    void* p = outer.allocate(256, 16);
    std::memset(p, 0xe, 256);
    outer.deallocate(p, 256, 16);  // the whole span's blocks now sit in E's cache
    phase.store(1);
    while (phase.load() != 3) std::this_thread::yield();
  });
  while (phase.load() != 1) std::this_thread::yield();
  EXPECT_EQ(outer.thread_count(), 1u);

  gate.arm([&] {
    phase.store(2);
    while (outer.thread_count() > 1) std::this_thread::yield();  // E's exit retired its cache
  });
  std::thread g([&] {
    void* p = outer.allocate(256, 16);  // a refill that must grow: the gate's hook runs in here
    std::memset(p, 0x9, 256);
    outer.deallocate(p, 256, 16);
  });
  while (phase.load() != 2) std::this_thread::yield();
  phase.store(3);
  e.join();
  g.join();
  const resource_stats s = outer.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(outer.thread_count(), 0u);
}

TEST(StackedResourcesDeadlock, ScalableOverScalable) {
  run_with_watchdog("scalable over scalable", [] {
    for (int round = 0; round < 3; ++round) {
      test_upstream up;
      {
        scalable_options o;
        o.checked = false;
        scalable_resource inner(o, &up);
        exit_during_first_upstream_growth(inner);
      }
      EXPECT_EQ(up.outstanding_bytes(), 0u);
    }
  });
}

TEST(StackedResourcesDeadlock, ScalableOverFixedSlabWithThreadCaches) {
  run_with_watchdog("scalable over fixed_slab with caches", [] {
    for (int round = 0; round < 3; ++round) {
      test_upstream up;
      {
        fixed_slab_options o;
        o.block_size = 4096;  // one span per block, aligned to 4096
        o.chunk_bytes = 64 * 1024;
        o.thread_cache_entries = 4;
        o.checked = false;
        fixed_slab_resource inner(o, &up);
        exit_during_first_upstream_growth(inner);
      }
      EXPECT_EQ(up.outstanding_bytes(), 0u);
    }
  });
}

}  // namespace
}  // namespace allocbench
