#include "pmr/allocation_scope.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <memory_resource>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pmr/best_fit_resource.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/presets.h"
#include "pmr/segregated_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::test_upstream;

static_assert(!std::is_copy_constructible_v<allocation_scope>);
static_assert(!std::is_move_constructible_v<allocation_scope>);
static_assert(!std::is_copy_assignable_v<allocation_scope>);

constexpr std::size_t kAlign = alignof(std::max_align_t);

struct block {
  void* p;
  std::size_t bytes;
};

block take(std::pmr::memory_resource& r, std::size_t bytes) { return {r.allocate(bytes, kAlign), bytes}; }
void give(std::pmr::memory_resource& r, block b) { r.deallocate(b.p, b.bytes, kAlign); }

void expect_report(const scope_report& r, std::uint64_t allocations, std::uint64_t deallocations,
                   std::uint64_t bytes_allocated, std::uint64_t bytes_freed, std::uint64_t peak,
                   const char* where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(r.allocations, allocations);
  EXPECT_EQ(r.deallocations, deallocations);
  EXPECT_EQ(r.bytes_allocated, bytes_allocated);
  EXPECT_EQ(r.bytes_freed, bytes_freed);
  EXPECT_EQ(r.peak_bytes, peak);
  EXPECT_EQ(r.live_bytes, std::int64_t(bytes_allocated) - std::int64_t(bytes_freed));
  EXPECT_EQ(r.live_blocks, std::int64_t(allocations) - std::int64_t(deallocations));
}

// --- exactly what is allocated inside ---------------------------------------------------------------

TEST(AllocationScope, SeesExactlyTheAllocationsMadeInsideIt) {
  auto pool = make_preset("seed_baseline");
  const block before = take(*pool, 40);
  scope_report out;
  std::vector<block> kept;
  {
    allocation_scope scope(*pool);
    EXPECT_EQ(&scope.watched(), pool.get());
    EXPECT_FALSE(scope.has_scratch());
    scope.report_on_close(out);
    expect_report(scope.report(), 0, 0, 0, 0, 0, "fresh");

    // One request per route of the preset: three slabs, the size classes, the best-fit heap and its
    // direct path. Each is counted once, in requested (not rounded) bytes.
    const std::vector<std::size_t> sizes = {8, 100, 200, 1000, 5000, 300000};
    std::vector<block> blocks;
    for (std::size_t n : sizes) blocks.push_back(take(*pool, n));
    const std::uint64_t total = std::accumulate(sizes.begin(), sizes.end(), std::uint64_t(0));
    expect_report(scope.report(), 6, 0, total, 0, total, "after the allocations");

    give(*pool, blocks[5]);  // the 300000 bytes
    give(*pool, blocks[3]);  // the 1000 bytes
    expect_report(scope.report(), 6, 2, total, 301000, total, "after two frees");
    // Below the high-water mark: the peak stays.
    const block small = take(*pool, 50);
    expect_report(scope.report(), 7, 2, total + 50, 301000, total, "below the peak");
    give(*pool, small);
    give(*pool, blocks[1]);
    give(*pool, blocks[2]);
    give(*pool, blocks[4]);
    kept.push_back(blocks[0]);  // 8 bytes still live at close
    EXPECT_EQ(out.allocations, 0u) << "report_on_close writes only at close";
  }
  expect_report(out, 7, 6, 8 + 100 + 200 + 1000 + 5000 + 300000 + 50, 100 + 200 + 1000 + 5000 + 300000 + 50,
                8 + 100 + 200 + 1000 + 5000 + 300000, "final");
  EXPECT_EQ(out.live_bytes, 8);
  EXPECT_EQ(out.live_blocks, 1);
  // After close nothing is counted any more.
  EXPECT_EQ(detail::tls_scope_top, nullptr);
  give(*pool, kept[0]);
  give(*pool, before);
  EXPECT_EQ(out.deallocations, 6u);
}

TEST(AllocationScope, PeakIsTheHighWaterMarkNotTheFinalFigure) {
  auto pool = make_preset("seed_baseline");
  allocation_scope scope(*pool);
  const block a = take(*pool, 3000);
  give(*pool, a);
  const block b = take(*pool, 500);
  const block c = take(*pool, 600);
  expect_report(scope.report(), 3, 1, 4100, 3000, 3000, "3000 then 1100");
  const block d = take(*pool, 2000);
  expect_report(scope.report(), 4, 1, 6100, 3000, 3100, "new peak 3100");
  give(*pool, b);
  give(*pool, c);
  give(*pool, d);
  expect_report(scope.report(), 4, 4, 6100, 6100, 3100, "all freed");
}

TEST(AllocationScope, FreeingOlderBlocksGivesNegativeLiveFiguresAndNoPeak) {
  auto pool = make_preset("seed_baseline");
  const block old1 = take(*pool, 64);
  const block old2 = take(*pool, 1024);
  scope_report out;
  {
    allocation_scope scope(*pool);
    scope.report_on_close(out);
    give(*pool, old1);
    give(*pool, old2);
    const block fresh = take(*pool, 100);
    expect_report(scope.report(), 1, 2, 100, 1088, 0, "net negative");
    EXPECT_EQ(scope.report().live_bytes, -988);
    EXPECT_EQ(scope.report().live_blocks, -1);
    const block more = take(*pool, 1000);  // live: -988 + 1000 = 12, the first positive figure
    EXPECT_EQ(scope.report().peak_bytes, 12u);
    give(*pool, more);
    give(*pool, fresh);
  }
  EXPECT_EQ(out.live_bytes, -1088);
  EXPECT_EQ(out.peak_bytes, 12u);
}

TEST(AllocationScope, FailedAllocationsAreNotCounted) {
  test_upstream up;
  fixed_slab_resource slab(fixed_slab_options{.block_size = 64}, &up);
  allocation_scope scope(slab);
  up.fail_at(1);  // the slab's first refill
  EXPECT_THROW(take(slab, 16), std::bad_alloc);
  EXPECT_THROW(take(slab, 65), std::bad_alloc);  // larger than a block
  expect_report(scope.report(), 0, 0, 0, 0, 0, "after failures");
  const block b = take(slab, 16);
  give(slab, b);
  expect_report(scope.report(), 1, 1, 16, 16, 16, "after a success");
}

// Every kind of resource of ours reports to scopes, once per call, whichever path serves it.
struct resource_case {
  std::string name;
  std::function<std::unique_ptr<instrumented_resource>(std::pmr::memory_resource*)> make;
  std::vector<std::size_t> sizes;
};

std::vector<resource_case> resource_cases() {
  return {
      {"seed_baseline", [](auto* up) { return make_preset("seed_baseline", up); },
       {0, 1, 32, 33, 128, 129, 256, 257, 4096, 4097, 262144, 262145, 1 << 20}},
      {"seed_sharded", [](auto* up) { return make_preset("seed_sharded", up); }, {7, 120, 250, 3000, 70000}},
      {"fixed_slab",
       [](auto* up) { return std::make_unique<fixed_slab_resource>(fixed_slab_options{.block_size = 256}, up); },
       {0, 1, 255, 256}},
      {"fixed_slab_thread_cache",
       [](auto* up) {
         return std::make_unique<fixed_slab_resource>(
             fixed_slab_options{.block_size = 48, .thread_cache_entries = 8}, up);
       },
       {1, 2, 3, 40, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48}},
      {"segregated", [](auto* up) { return std::make_unique<segregated_resource>(segregated_options{}, up); },
       {0, 1, 31, 32, 33, 700, 4096}},
      {"best_fit",
       [](auto* up) {
         return std::make_unique<best_fit_resource>(best_fit_options{.direct_threshold = 4096}, up);
       },
       {1, 100, 4096, 4097, 100000}},
      {"routing_to_upstream",
       [](auto* up) {
         const auto layout = nlohmann::json::parse(R"({"name": "t", "resource": {"type": "routing",
             "routes": [{"max_size": 64, "resource": {"type": "fixed_slab", "block_size": 64}}],
             "fallback": "upstream"}})");
         return build_resource(layout, "routing_to_upstream", up);
       },
       {1, 64, 65, 5000}},
  };
}

TEST(AllocationScope, EveryResourceKindIsCountedOncePerCall) {
  for (const resource_case& c : resource_cases()) {
    SCOPED_TRACE(c.name);
    test_upstream up;
    auto r = c.make(&up);
    scope_report out;
    {
      allocation_scope scope(*r);
      scope.report_on_close(out);
      std::vector<block> blocks;
      std::uint64_t total = 0;
      for (std::size_t n : c.sizes) {
        blocks.push_back(take(*r, n));
        total += n;
      }
      expect_report(scope.report(), c.sizes.size(), 0, total, 0, total, "allocated");
      std::uint64_t freed = 0;
      for (std::size_t i = 0; i < blocks.size(); i += 2) {
        give(*r, blocks[i]);
        freed += blocks[i].bytes;
      }
      const std::uint64_t frees = (blocks.size() + 1) / 2;
      expect_report(scope.report(), c.sizes.size(), frees, total, freed, total, "half freed");
      for (std::size_t i = 1; i < blocks.size(); i += 2) give(*r, blocks[i]);
    }
    EXPECT_EQ(out.live_bytes, 0);
    EXPECT_EQ(out.live_blocks, 0);
    EXPECT_EQ(out.allocations, c.sizes.size());
  }
}

// --- threads ----------------------------------------------------------------------------------------

TEST(AllocationScope, CountsOnlyItsOwnThread) {
  auto pool = make_preset("seed_baseline");
  std::atomic<bool> stop{false};
  std::atomic<int> started{0};
  std::uint64_t worker_counted = 0;
  scope_report worker_report;

  scope_report out;
  {
    allocation_scope scope(*pool);
    scope.report_on_close(out);

    // A thread with its own scope on the same resource: counts its own calls, and only those.
    std::thread scoped([&] {
      scope_report mine;
      {
        allocation_scope own(*pool);
        own.report_on_close(mine);
        started.fetch_add(1);
        std::uint64_t n = 0;
        while (!stop.load() || n < 1000) {
          give(*pool, take(*pool, 24 + n % 300));
          ++n;
        }
        worker_counted = n;
      }
      worker_report = mine;
    });
    // A thread with no scope at all.
    std::thread plain([&] {
      started.fetch_add(1);
      std::uint64_t n = 0;
      while (!stop.load() || n < 1000) {
        give(*pool, take(*pool, 16 + n % 2000));
        ++n;
      }
    });
    while (started.load() < 2) std::this_thread::yield();

    // Ours, made while both threads allocate from the same resource.
    std::vector<block> blocks;
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < 200; ++i) {
      blocks.push_back(take(*pool, 10 + i * 7));
      bytes += 10 + i * 7;
    }
    for (block b : blocks) give(*pool, b);
    stop.store(true);
    scoped.join();
    plain.join();
    expect_report(scope.report(), 200, 200, bytes, bytes, bytes, "main thread");
  }
  EXPECT_EQ(out.allocations, 200u);
  EXPECT_GE(worker_counted, 1000u);
  EXPECT_EQ(worker_report.allocations, worker_counted);
  EXPECT_EQ(worker_report.deallocations, worker_counted);
  EXPECT_EQ(worker_report.live_bytes, 0);
}

TEST(AllocationScope, ReportMayBeReadFromAnotherThread) {
  auto pool = make_preset("seed_baseline");
  allocation_scope scope(*pool);
  std::atomic<bool> done{false};
  std::atomic<bool> reading{false};
  constexpr std::uint64_t kCount = 2000;
  std::uint64_t final_seen = 0;
  bool monotonic = true;
  std::thread reader([&] {
    std::uint64_t last = 0;
    reading.store(true);
    for (;;) {
      const bool finished = done.load(std::memory_order_acquire);
      const scope_report r = scope.report();
      if (r.allocations < last || r.allocations > kCount || r.deallocations > r.allocations) monotonic = false;
      last = r.allocations;
      if (finished) {
        final_seen = r.allocations;
        return;
      }
    }
  });
  while (!reading.load()) std::this_thread::yield();
  std::vector<block> blocks;
  for (std::uint64_t i = 0; i < kCount; ++i) blocks.push_back(take(*pool, 1 + i % 500));
  done.store(true, std::memory_order_release);
  reader.join();
  for (block b : blocks) give(*pool, b);
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(final_seen, kCount);
  EXPECT_EQ(scope.report().deallocations, kCount);
}

// --- nesting ----------------------------------------------------------------------------------------

TEST(AllocationScope, OuterScopeIncludesNestedOnes) {
  auto pool = make_preset("seed_baseline");
  scope_report request, step1, step2, inner;
  {
    allocation_scope outer(*pool);
    outer.report_on_close(request);
    const block a = take(*pool, 100);  // the request only
    {
      allocation_scope s1(*pool);
      s1.report_on_close(step1);
      const block b = take(*pool, 200);
      {
        allocation_scope s11(*pool);
        s11.report_on_close(inner);
        give(*pool, take(*pool, 30));
      }
      give(*pool, b);
      expect_report(s1.report(), 2, 2, 230, 230, 230, "step 1 open");
    }
    {
      allocation_scope s2(*pool);
      s2.report_on_close(step2);
      give(*pool, a);  // allocated by the request before the step: negative for the step
      give(*pool, take(*pool, 0));
    }
    expect_report(outer.report(), 4, 4, 330, 330, 330, "request open");
  }
  expect_report(inner, 1, 1, 30, 30, 30, "innermost");
  expect_report(step1, 2, 2, 230, 230, 230, "step 1");
  expect_report(step2, 1, 2, 0, 100, 0, "step 2");
  EXPECT_EQ(step2.live_bytes, -100);
  expect_report(request, 4, 4, 330, 330, 330, "request");
  EXPECT_EQ(request.allocations, 1 + step1.allocations + step2.allocations);
  EXPECT_EQ(detail::tls_scope_top, nullptr);
}

TEST(AllocationScope, ScopesOnDifferentResourcesCountOnlyTheirOwn) {
  auto first = make_preset("seed_baseline");
  auto second = make_preset("seed_sharded");
  scope_report on_first, on_second;
  std::vector<block> leftovers;
  {
    allocation_scope a(*first);
    a.report_on_close(on_first);
    leftovers.push_back(take(*second, 11));  // no scope watches `second` yet
    {
      allocation_scope b(*second);
      b.report_on_close(on_second);
      leftovers.push_back(take(*first, 100));   // a only
      leftovers.push_back(take(*second, 200));  // b only
      leftovers.push_back(take(*second, 300));  // b only
      expect_report(a.report(), 1, 0, 100, 0, 100, "a, inner open");
      expect_report(b.report(), 2, 0, 500, 0, 500, "b, inner open");
    }
    leftovers.push_back(take(*second, 400));  // nobody
    leftovers.push_back(take(*first, 1000));  // a only
  }
  expect_report(on_first, 2, 0, 1100, 0, 1100, "first");
  expect_report(on_second, 2, 0, 500, 0, 500, "second");
  give(*second, leftovers[0]);
  give(*first, leftovers[1]);
  give(*second, leftovers[2]);
  give(*second, leftovers[3]);
  give(*second, leftovers[4]);
  give(*first, leftovers[5]);
}

// --- resources that are not ours -----------------------------------------------------------------

TEST(AllocationScope, ForeignResourcesAreInvisibleUnlessWrapped) {
  test_upstream up;
  {
    allocation_scope on_up(up);
    allocation_scope on_new_delete(*std::pmr::new_delete_resource());
    give(up, take(up, 64));
    give(*std::pmr::new_delete_resource(), take(*std::pmr::new_delete_resource(), 64));
    EXPECT_EQ(on_new_delete.report().allocations, 0u);
    EXPECT_EQ(on_up.report().allocations, 0u);
  }
  observable_resource obs(&up);
  EXPECT_EQ(obs.upstream(), &up);
  EXPECT_TRUE(obs.is_equal(obs));
  observable_resource twin(&up);
  EXPECT_FALSE(obs.is_equal(twin));
  EXPECT_EQ(observable_resource().upstream(), std::pmr::get_default_resource());
  {
    allocation_scope scope(obs);
    const block a = take(obs, 64);
    const block b = take(obs, 1000);
    EXPECT_EQ(up.outstanding_blocks(), 2u);  // forwarded
    give(obs, a);
    give(twin, take(twin, 5));  // another wrapper: not watched
    expect_report(scope.report(), 2, 1, 1064, 64, 1064, "through the wrapper");
    up.fail_at(1);
    EXPECT_THROW(take(obs, 8), std::bad_alloc);
    EXPECT_EQ(scope.report().allocations, 2u) << "a failed upstream allocation is not counted";
    give(obs, b);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(AllocationScope, WrapperAroundOurResourceIsSeenByScopesOnEither) {
  test_upstream up;
  fixed_slab_resource slab(fixed_slab_options{.block_size = 128}, &up);
  observable_resource obs(&slab);
  allocation_scope on_slab(slab);
  allocation_scope on_obs(obs);
  give(obs, take(obs, 100));    // both: the wrapper's call reaches the slab
  give(slab, take(slab, 50));   // the slab only
  expect_report(on_obs.report(), 1, 1, 100, 100, 100, "wrapper");
  expect_report(on_slab.report(), 2, 2, 150, 150, 100, "slab");
}

// --- scratch arena ----------------------------------------------------------------------------------

TEST(AllocationScope, ScratchArenaIsCountedAndReleasedAtClose) {
  test_upstream up;
  observable_resource watched(&up);
  scope_report out;
  {
    allocation_scope scope(watched, scratch_arena);
    scope.report_on_close(out);
    EXPECT_TRUE(scope.has_scratch());
    {
      std::pmr::vector<float> tmp(4096, &scope.scratch());
      std::pmr::vector<float> more(100, 1.0f, &scope.scratch());
      EXPECT_EQ(tmp.size(), 4096u);
    }
    // The vectors are gone, but a monotonic arena keeps its chunks until the scope closes.
    const scope_report open = scope.report();
    EXPECT_GE(open.allocations, 1u);
    EXPECT_EQ(open.deallocations, 0u);
    EXPECT_GE(open.bytes_allocated, 4096 * sizeof(float) + 100 * sizeof(float));
    EXPECT_EQ(std::uint64_t(open.live_blocks), up.outstanding_blocks());
    EXPECT_EQ(std::uint64_t(open.live_bytes), up.outstanding_bytes());
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_GE(out.allocations, 1u);
  EXPECT_EQ(out.deallocations, out.allocations) << "the chunks' release is seen before the final report";
  EXPECT_EQ(out.live_bytes, 0);
  EXPECT_EQ(out.live_blocks, 0);
  EXPECT_GE(out.peak_bytes, 4096 * sizeof(float));
}

TEST(AllocationScope, ScratchArenaOnOurResourceHonoursInitialBytes) {
  test_upstream up;
  auto pool = make_preset("seed_baseline", &up);
  scope_report out;
  {
    allocation_scope scope(*pool, scratch_arena, 1 << 16);
    scope.report_on_close(out);
    void* p = scope.scratch().allocate(8, 8);
    EXPECT_NE(p, nullptr);
    EXPECT_EQ(scope.report().allocations, 1u);
    EXPECT_GE(scope.report().bytes_allocated, std::uint64_t(1) << 16);
    EXPECT_GT(pool->stats().live_bytes, 0u);
  }
  EXPECT_EQ(out.live_bytes, 0);
  EXPECT_EQ(pool->stats().live_bytes, 0u);
}

TEST(AllocationScope, NestedScratchScopeIsSeenByTheOuterScope) {
  auto pool = make_preset("seed_baseline");
  allocation_scope outer(*pool);
  scope_report inner;
  {
    allocation_scope step(*pool, scratch_arena, 8192);
    step.report_on_close(inner);
    std::pmr::string s(20000, 'x', &step.scratch());
    EXPECT_EQ(outer.report().allocations, step.report().allocations);
    EXPECT_GT(outer.report().live_bytes, 0);
  }
  EXPECT_GE(inner.allocations, 1u);
  expect_report(outer.report(), inner.allocations, inner.deallocations, inner.bytes_allocated, inner.bytes_freed,
                inner.peak_bytes, "outer after the step");
  EXPECT_EQ(outer.report().live_bytes, 0);
}

TEST(AllocationScope, ScratchWithoutAnArenaThrowsLogicError) {
  auto pool = make_preset("seed_baseline");
  allocation_scope scope(*pool);
  EXPECT_THROW(scope.scratch(), std::logic_error);
}

// --- misuse -----------------------------------------------------------------------------------------

TEST(AllocationScopeDeathTest, ClosingOutOfOrderAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto out_of_order = [] {
    std::pmr::memory_resource* r = std::pmr::new_delete_resource();
    std::optional<allocation_scope> outer, inner;
    outer.emplace(*r);
    inner.emplace(*r);
    outer.reset();
  };
  EXPECT_DEATH(out_of_order(), "not the innermost open scope");
}

TEST(AllocationScopeDeathTest, ClosingOnAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto other_thread = [] {
    std::optional<allocation_scope> scope;
    scope.emplace(*std::pmr::new_delete_resource());
    std::thread([&] { scope.reset(); }).join();
  };
  EXPECT_DEATH(other_thread(), "not the innermost open scope");
}

}  // namespace
}  // namespace allocbench
