#include "pmr/routing_resource.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <memory_resource>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "allocator/invalid_free.h"
#include "pmr/best_fit_resource.h"
#include "pmr/testing/allocation_script.h"
#include "pmr/testing/contract_checks.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/model_checker.h"
#include "pmr/testing/random_script.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::invalid_free_recorder;
using testing::model_checker;
using testing::model_options;
using testing::test_upstream;

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// A child that records which requests reached it, so that a test can tell exactly where the router
// sent each one. Each block comes from the upstream on its own; release() gives them all back.
class probe_resource final : public instrumented_resource {
 public:
  probe_resource(std::pmr::memory_resource* upstream, std::size_t block_size = 0)
      : upstream_(upstream), block_size_(block_size) {}
  ~probe_resource() override { release(); }

  std::size_t allocate_calls = 0;
  std::size_t deallocate_calls = 0;
  std::size_t last_bytes = 0;
  std::size_t last_alignment = 0;

  resource_stats stats() const override {
    resource_stats s;
    counters_.fill(s);
    // One entry, as a slab reports it: the router copies its block size.
    s.classes.push_back({"probe", block_size_, s.allocations, s.deallocations, s.live_blocks, s.bytes_held});
    return s;
  }
  void release() override {
    for (auto& [p, b] : live_) {
      counters_.on_upstream_release(held(b.first));
      upstream_->deallocate(p, held(b.first), b.second);
    }
    live_.clear();
    counters_.forget_live();
  }
  std::string_view kind() const noexcept override { return "probe"; }

 private:
  static std::size_t held(std::size_t bytes) { return bytes == 0 ? 1 : bytes; }

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    ++allocate_calls;
    last_bytes = bytes;
    last_alignment = alignment;
    void* p = upstream_->allocate(held(bytes), alignment);
    live_[p] = {bytes, alignment};
    counters_.on_upstream_acquire(held(bytes));
    note_allocate(bytes, bytes);
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    ++deallocate_calls;
    auto it = live_.find(p);
    if (it == live_.end() || it->second != std::pair(bytes, alignment)) {
      ADD_FAILURE() << "probe: deallocate of a block it did not hand out";
      return;
    }
    live_.erase(it);
    note_deallocate(bytes, bytes);
    counters_.on_upstream_release(held(bytes));
    upstream_->deallocate(p, held(bytes), alignment);
  }

  std::pmr::memory_resource* upstream_;
  std::size_t block_size_;
  std::map<void*, std::pair<std::size_t, std::size_t>> live_;
};

route make_route(std::size_t max_size, std::size_t max_alignment, std::unique_ptr<instrumented_resource> r,
                 std::string label = "") {
  return route{max_size, max_alignment, std::move(r), std::move(label)};
}

// A router over four probes, the same shape as the presets' tables:
//   small:   bytes <= 64,   alignment <= 16
//   aligned: bytes <= 64,   alignment <= 4096 (same size, higher alignment)
//   medium:  bytes <= 1024, alignment <= 64
//   fallback (when `with_fallback`), else straight to upstream.
struct probe_router {
  test_upstream up;  // first: outlives the router and checks for leaks when the test ends
  probe_resource* small;
  probe_resource* aligned;
  probe_resource* medium;
  probe_resource* fallback = nullptr;
  std::unique_ptr<routing_resource> router;

  explicit probe_router(bool with_fallback, bool checked = false) {
    auto s = std::make_unique<probe_resource>(&up, 64);
    auto a = std::make_unique<probe_resource>(&up);
    auto m = std::make_unique<probe_resource>(&up);
    small = s.get();
    aligned = a.get();
    medium = m.get();
    std::vector<route> routes;
    routes.push_back(make_route(64, 16, std::move(s), "small"));
    routes.push_back(make_route(64, 4096, std::move(a), "aligned"));
    routes.push_back(make_route(1024, 64, std::move(m)));  // label defaults to the kind
    std::unique_ptr<instrumented_resource> fb;
    if (with_fallback) {
      auto f = std::make_unique<probe_resource>(&up);
      fallback = f.get();
      fb = std::move(f);
    }
    router = std::make_unique<routing_resource>(std::move(routes), std::move(fb), &up, checked);
  }
};

// ---------------------------------------------------------------------------------------------------
// Construction.

TEST(RoutingResource, ConstructorRejectsUnsortedRoutes) {
  test_upstream up;
  std::vector<route> routes;
  routes.push_back(make_route(128, 16, std::make_unique<probe_resource>(&up)));
  routes.push_back(make_route(64, 16, std::make_unique<probe_resource>(&up)));
  EXPECT_THROW(routing_resource(std::move(routes), nullptr, &up), std::invalid_argument);
}

TEST(RoutingResource, ConstructorAcceptsEqualSizesAtTwoAlignments) {
  test_upstream up;
  std::vector<route> routes;
  routes.push_back(make_route(64, 16, std::make_unique<probe_resource>(&up)));
  routes.push_back(make_route(64, 256, std::make_unique<probe_resource>(&up)));
  routing_resource r(std::move(routes), nullptr, &up);
  EXPECT_EQ(r.routes().size(), 2u);
  EXPECT_EQ(r.routes()[0].label, "probe");  // an empty label becomes the child's kind
}

TEST(RoutingResource, ConstructorRejectsMissingResourceAndUpstream) {
  test_upstream up;
  {
    std::vector<route> routes;
    routes.push_back(make_route(64, 16, nullptr));
    EXPECT_THROW(routing_resource(std::move(routes), nullptr, &up), std::invalid_argument);
  }
  {
    std::vector<route> routes;
    routes.push_back(make_route(64, 16, std::make_unique<probe_resource>(&up)));
    routes.push_back(make_route(128, 16, nullptr));
    EXPECT_THROW(routing_resource(std::move(routes), nullptr, &up), std::invalid_argument);
  }
  {
    std::vector<route> routes;
    routes.push_back(make_route(64, 16, std::make_unique<probe_resource>(&up)));
    EXPECT_THROW(routing_resource(std::move(routes), nullptr, nullptr), std::invalid_argument);
  }
}

TEST(RoutingResource, ConstructorRejectsNonPowerOfTwoMaxAlignment) {
  test_upstream up;
  for (std::size_t alignment : {std::size_t(0), std::size_t(3), std::size_t(48), std::size_t(4095)}) {
    std::vector<route> routes;
    routes.push_back(make_route(64, alignment, std::make_unique<probe_resource>(&up)));
    EXPECT_THROW(routing_resource(std::move(routes), nullptr, &up), std::invalid_argument) << alignment;
  }
}

TEST(RoutingResource, NoRoutesSendsEverythingToTheFallback) {
  test_upstream up;
  auto f = std::make_unique<probe_resource>(&up);
  probe_resource* fallback = f.get();
  routing_resource r({}, std::move(f), &up);
  void* p = r.allocate(10);
  EXPECT_EQ(fallback->allocate_calls, 1u);
  r.deallocate(p, 10);
  EXPECT_EQ(fallback->deallocate_calls, 1u);
}

// ---------------------------------------------------------------------------------------------------
// Where each request goes.

TEST(RoutingResource, EveryRouteBoundaryIsInclusive) {
  probe_router t(/*with_fallback=*/true);
  routing_resource& r = *t.router;
  const struct {
    std::size_t bytes, alignment;
    probe_resource* expected;
  } cases[] = {
      {0, 1, t.small},          {1, 1, t.small},          {64, 16, t.small},
      {65, 1, t.medium},        {64, 32, t.aligned},      {0, 4096, t.aligned},
      {64, 4096, t.aligned},    {65, 32, t.medium},       {1024, 64, t.medium},
      {1025, 1, t.fallback},    {1024, 128, t.fallback},  {65, 128, t.fallback},
      {64, 8192, t.fallback},   {1 << 20, 16, t.fallback},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.bytes << " bytes @" << c.alignment);
    EXPECT_EQ(r.target(c.bytes, c.alignment), c.expected);
    const std::size_t before = c.expected->allocate_calls;
    void* p = r.allocate(c.bytes, c.alignment);
    EXPECT_EQ(c.expected->allocate_calls, before + 1);
    EXPECT_EQ(c.expected->last_bytes, c.bytes);
    EXPECT_EQ(c.expected->last_alignment, c.alignment);
    const std::size_t freed = c.expected->deallocate_calls;
    r.deallocate(p, c.bytes, c.alignment);  // the same rule finds the same child
    EXPECT_EQ(c.expected->deallocate_calls, freed + 1);
  }
  EXPECT_EQ(t.up.outstanding_blocks(), 0u);
}

TEST(RoutingResource, WithoutFallbackUnroutedRequestsGoStraightToUpstream) {
  probe_router t(/*with_fallback=*/false);
  routing_resource& r = *t.router;
  EXPECT_EQ(r.fallback(), nullptr);
  EXPECT_EQ(r.target(1025, 1), nullptr);
  EXPECT_EQ(r.target(64, 8192), nullptr);
  const std::size_t calls = t.up.allocate_calls();

  void* p = r.allocate(1025);
  EXPECT_EQ(t.up.allocate_calls(), calls + 1);
  std::memset(p, 3, 1025);
  void* q = r.allocate(100, 8192);  // alignment above every route
  EXPECT_EQ(addr(q) % 8192, 0u);
  std::memset(q, 4, 100);
  EXPECT_EQ(t.small->allocate_calls + t.aligned->allocate_calls + t.medium->allocate_calls, 0u);
  resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.live_usable_bytes, 1125u);
  EXPECT_EQ(s.bytes_held, t.up.outstanding_bytes());
  ASSERT_EQ(s.classes.size(), 4u);
  EXPECT_EQ(s.classes[3].name, "upstream");
  EXPECT_EQ(s.classes[3].allocations, 2u);
  EXPECT_EQ(s.classes[3].live_blocks, 2u);
  EXPECT_EQ(s.classes[3].bytes_held, t.up.outstanding_bytes());
  r.deallocate(p, 1025);
  r.deallocate(q, 100, 8192);
  EXPECT_EQ(t.up.outstanding_blocks(), 0u);
  s = r.stats();
  EXPECT_EQ(s.classes[3].deallocations, 2u);
  EXPECT_EQ(s.bytes_held, 0u);
}

// ---------------------------------------------------------------------------------------------------
// The contract every resource shares.

TEST(RoutingResource, AllocateZeroGoesToTheFirstRoute) {
  probe_router t(false);
  void* a = t.router->allocate(0);
  void* b = t.router->allocate(0);
  EXPECT_NE(a, b);
  EXPECT_EQ(t.small->allocate_calls, 2u);
  t.router->deallocate(a, 0);
  t.router->deallocate(b, 0);
}

TEST(RoutingResource, NonPowerOfTwoAlignmentThrowsBeforeAnyChildSeesIt) {
  for (bool with_fallback : {false, true}) {
    probe_router t(with_fallback);
    testing::expect_bad_alignments_rejected(*t.router, t.up, {8, 500, 1 << 20}, {0, 3, 24, 12288});
  }
}

TEST(RoutingResource, SizesNearSizeMaxThrowBadAllocAndChangeNothing) {
  // Without a fallback the router's own direct path must detect the overflow; with a best-fit
  // fallback the child must.
  for (bool with_fallback : {false, true}) {
    test_upstream up;
    std::vector<route> routes;
    routes.push_back(make_route(64, 16, std::make_unique<probe_resource>(&up)));
    std::unique_ptr<instrumented_resource> fb;
    if (with_fallback) fb = std::make_unique<best_fit_resource>(best_fit_options{}, &up);
    routing_resource r(std::move(routes), std::move(fb), &up);
    void* keep = r.allocate(2000);
    const resource_stats before = r.stats();
    for (std::size_t bytes : {kMax, kMax - 1, kMax - 40}) {
      for (std::size_t alignment : {std::size_t(1), std::size_t(16), std::size_t(4096), std::size_t(8192)}) {
        EXPECT_THROW((void)r.allocate(bytes, alignment), std::bad_alloc) << bytes << " @" << alignment;
      }
    }
    const resource_stats after = r.stats();
    EXPECT_EQ(after.allocations, before.allocations);
    EXPECT_EQ(after.live_blocks, before.live_blocks);
    EXPECT_EQ(after.bytes_held, before.bytes_held);
    EXPECT_EQ(up.allocate_calls(), 1u);
    r.deallocate(keep, 2000);
  }
}

TEST(RoutingResource, IsEqualOnlyToItself) {
  probe_router a(false), b(false);
  EXPECT_TRUE(a.router->is_equal(*a.router));
  EXPECT_FALSE(a.router->is_equal(*b.router));
  // Not equal to its own children either: a block from the router must go back through the router.
  EXPECT_FALSE(a.router->is_equal(*a.small));
  EXPECT_FALSE(a.small->is_equal(*a.router));
}

// ---------------------------------------------------------------------------------------------------
// Statistics.

TEST(RoutingResource, StatsSumTheChildrenAndListEachRoute) {
  probe_router t(/*with_fallback=*/true);
  routing_resource& r = *t.router;
  void* s1 = r.allocate(10);
  void* s2 = r.allocate(60);
  void* a1 = r.allocate(40, 64);
  void* m1 = r.allocate(500);
  void* f1 = r.allocate(5000);
  void* f2 = r.allocate(6000);
  r.deallocate(s2, 60);

  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 6u);
  EXPECT_EQ(s.deallocations, 1u);
  EXPECT_EQ(s.live_blocks, 5u);
  EXPECT_EQ(s.live_requested_bytes, 10u + 40 + 500 + 5000 + 6000);
  EXPECT_EQ(s.total_requested_bytes, 10u + 60 + 40 + 500 + 5000 + 6000);
  EXPECT_EQ(s.bytes_held, t.up.outstanding_bytes());
  ASSERT_EQ(s.classes.size(), 4u);
  const struct {
    const char* name;
    std::size_t block_size;
    std::uint64_t allocations, deallocations, live;
    probe_resource* child;
  } expected[] = {
      {"small", 64, 2, 1, 1, t.small},
      {"aligned", 0, 1, 0, 1, t.aligned},
      {"probe", 0, 1, 0, 1, t.medium},
      {"fallback", 0, 2, 0, 2, t.fallback},
  };
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(s.classes[i].name, expected[i].name);
    EXPECT_EQ(s.classes[i].block_size, expected[i].block_size);
    EXPECT_EQ(s.classes[i].allocations, expected[i].allocations);
    EXPECT_EQ(s.classes[i].deallocations, expected[i].deallocations);
    EXPECT_EQ(s.classes[i].live_blocks, expected[i].live);
    EXPECT_EQ(s.classes[i].bytes_held, expected[i].child->stats().bytes_held);
  }
  // Peaks are the children's peaks summed.
  std::uint64_t peak_held = 0;
  for (probe_resource* c : {t.small, t.aligned, t.medium, t.fallback}) peak_held += c->stats().peak_bytes_held;
  EXPECT_EQ(s.peak_bytes_held, peak_held);

  r.deallocate(s1, 10);
  r.deallocate(a1, 40, 64);
  r.deallocate(m1, 500);
  r.deallocate(f1, 5000);
  r.deallocate(f2, 6000);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// With no fallback the last entry is "upstream": the router's own direct blocks, counted with the
// children's figures in the totals.
TEST(RoutingResource, StatsMixChildrenAndDirectBlocks) {
  probe_router t(/*with_fallback=*/false);
  routing_resource& r = *t.router;
  void* s1 = r.allocate(10);
  void* d1 = r.allocate(3000);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.live_requested_bytes, 3010u);
  EXPECT_EQ(s.bytes_held, t.up.outstanding_bytes());
  ASSERT_EQ(s.classes.size(), 4u);
  EXPECT_EQ(s.classes[0].allocations, 1u);
  EXPECT_EQ(s.classes[3].name, "upstream");
  EXPECT_EQ(s.classes[3].allocations, 1u);
  EXPECT_GT(s.classes[3].bytes_held, 3000u);  // the block and its header
  EXPECT_EQ(s.classes[0].bytes_held + s.classes[3].bytes_held, s.bytes_held);
  r.deallocate(d1, 3000);
  r.deallocate(s1, 10);
}

// ---------------------------------------------------------------------------------------------------
// release() and the destructor.

TEST(RoutingResource, ReleaseReleasesChildrenAndDirectBlocks) {
  probe_router t(/*with_fallback=*/false);
  routing_resource& r = *t.router;
  (void)r.allocate(10);
  (void)r.allocate(500);
  (void)r.allocate(3000);
  (void)r.allocate(50, 8192);
  ASSERT_EQ(t.up.outstanding_blocks(), 4u);
  r.release();
  EXPECT_EQ(t.up.outstanding_blocks(), 0u);
  resource_stats s = r.stats();
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.bytes_held, 0u);
  EXPECT_EQ(s.allocations, 4u);
  // Usable afterwards.
  void* p = r.allocate(3000);
  r.deallocate(p, 3000);
  EXPECT_EQ(t.up.outstanding_blocks(), 0u);
}

TEST(RoutingResource, DestructorGivesDirectBlocksBack) {
  test_upstream up;
  {
    std::vector<route> routes;
    routes.push_back(make_route(64, 16, std::make_unique<best_fit_resource>(best_fit_options{}, &up)));
    routing_resource r(std::move(routes), nullptr, &up);
    (void)r.allocate(20);
    (void)r.allocate(5000);
    (void)r.allocate(6000, 4096);
    EXPECT_EQ(up.outstanding_blocks(), 3u);  // the child's region and two direct blocks
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// ---------------------------------------------------------------------------------------------------
// Randomised model tests and upstream failures, over real children.

// Two best-fit children with small regions, and either a best-fit fallback or the direct path.
std::unique_ptr<routing_resource> make_best_fit_router(test_upstream& up, bool with_fallback, bool checked) {
  auto child = [&](std::size_t region, std::size_t threshold) {
    best_fit_options o;
    o.region_bytes = region;
    o.direct_threshold = threshold;
    o.release_empty_regions = true;
    o.checked = checked;
    return std::make_unique<best_fit_resource>(o, &up);
  };
  std::vector<route> routes;
  routes.push_back(make_route(256, 64, child(4096, 1 << 20), "small"));
  routes.push_back(make_route(4096, 4096, child(16384, 1 << 20), "medium"));
  std::unique_ptr<instrumented_resource> fb;
  if (with_fallback) fb = child(32768, 6000);
  return std::make_unique<routing_resource>(std::move(routes), std::move(fb), &up, checked);
}

TEST(RoutingResource, RandomisedModelTest) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    for (bool with_fallback : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "seed " << seed << ", fallback " << with_fallback);
      test_upstream up;
      auto r = make_best_fit_router(up, with_fallback, seed == 2);
      {
        model_checker m(*r, [&] { return r->stats(); });
        model_options o;
        o.seed = seed;
        o.operations = 2500;
        o.max_live = 200;
        o.max_size = 9000;
        o.alignments = {1, 8, 16, 64, 128, 4096, 8192};
        m.run(o);
        EXPECT_EQ(r->stats().bytes_held, up.outstanding_bytes());
      }
      r->flush_quarantine();  // checked mode (seed 2) holds the last frees back until then
      // Every child gives its empty regions back and every direct block is gone.
      EXPECT_EQ(up.outstanding_blocks(), 0u);
      EXPECT_EQ(r->stats().live_blocks, 0u);
    }
  }
}

TEST(RoutingResource, UpstreamFailureAtEveryCallLeavesItUsableAndLeakFree) {
  // An allocate that throws must change no figure (per route too), and the router must still serve.
  const std::vector<testing::script_step> script =
      testing::make_random_script(7, 200, {0, 24, 200, 1000, 3000, 7000, 15000}, {1, 16, 128, 4096, 8192});
  for (bool with_fallback : {false, true}) {
    SCOPED_TRACE(::testing::Message() << "fallback " << with_fallback);
    testing::expect_every_upstream_failure_survived(
        [&](testing::upstream_failure& f) {
          auto r = make_best_fit_router(f.up, with_fallback, true);
          f.arm();
          const std::size_t bad_allocs = testing::run_random_script(*r, script);
          EXPECT_EQ(r->stats().bytes_held, f.up.outstanding_bytes());
          return bad_allocs;
        },
        11);
  }
}

// ---------------------------------------------------------------------------------------------------
// Checked mode (the router checks its direct blocks; children check their own).

TEST(RoutingResource, CheckedModeReportsBadFreesOfDirectBlocks) {
  invalid_free_recorder handler;
  auto& reports = invalid_free_recorder::reports();
  probe_router t(/*with_fallback=*/false, /*checked=*/true);
  routing_resource& r = *t.router;
  void* d = r.allocate(3000);
  void* e = r.allocate(4000);
  r.deallocate(d, 3000);
  const resource_stats before = r.stats();

  r.deallocate(d, 3000);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, invalid_free_kind::double_free);
  EXPECT_EQ(reports[0].pointer, d);
  EXPECT_EQ(reports[0].bytes, 3000u);
  EXPECT_EQ(reports[0].resource, "routing");

  alignas(64) static std::byte foreign[4096];
  r.deallocate(foreign + 64, 2000);  // a size that routes to the direct path
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(reports[1].pointer, foreign + 64);

  r.deallocate(e, 5000);  // live, but the wrong size (5000 also routes direct)
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[2].kind, invalid_free_kind::size_mismatch);

  const resource_stats after = r.stats();
  EXPECT_EQ(after.deallocations, before.deallocations);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  EXPECT_EQ(after.bytes_held, before.bytes_held);
  EXPECT_EQ(t.up.outstanding_blocks(), 2u);  // d waits in quarantine
  r.flush_quarantine();
  EXPECT_EQ(t.up.outstanding_blocks(), 1u);

  r.deallocate(e, 4000);
  EXPECT_EQ(reports.size(), 3u);
  r.flush_quarantine();
  EXPECT_EQ(t.up.outstanding_blocks(), 0u);
}

TEST(RoutingResource, CheckedModeCatchesEveryFaultClassOnDirectBlocks) {
  probe_router t(/*with_fallback=*/false, /*checked=*/true);
  testing::expect_every_fault_class_caught(*t.router, 3000, 16, "routing");  // beyond every route
  t.router->flush_quarantine();
  EXPECT_EQ(t.up.outstanding_blocks(), 0u);
}

TEST(RoutingResource, CheckedModeRegistryOutOfMemoryChangesNothing) {
  testing::expect_registry_out_of_memory_changes_nothing(
      [](test_upstream& up) {
        std::vector<route> routes;
        routes.push_back(make_route(64, 16, std::make_unique<probe_resource>(&up, 64), "small"));
        return std::make_unique<routing_resource>(std::move(routes), nullptr, &up, /*checked=*/true);
      },
      2000, 16);
}

TEST(RoutingResource, CheckedChildReportsBadFreesThroughTheRouter) {
  invalid_free_recorder handler;
  test_upstream up;
  auto r = make_best_fit_router(up, /*with_fallback=*/true, /*checked=*/true);
  void* p = r->allocate(100);  // the "small" best-fit child
  r->deallocate(p, 100);
  r->deallocate(p, 100);
  ASSERT_EQ(invalid_free_recorder::reports().size(), 1u);
  EXPECT_EQ(invalid_free_recorder::reports()[0].kind, invalid_free_kind::double_free);
  EXPECT_EQ(invalid_free_recorder::reports()[0].resource, "best_fit");
  EXPECT_EQ(r->stats().deallocations, 1u);
}

}  // namespace
}  // namespace allocbench
