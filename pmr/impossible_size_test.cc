// Issue 15, defect 1: a request no memory can honour (a size near SIZE_MAX) must be bad_alloc from
// every resource, whatever its upstream, with nothing changed. new_delete_resource() is the upstream
// that makes this matter: libstdc++ 12's aligned operator new rounds size + alignment - 1, wraps, and
// hands out a tiny block for such a size, which the resource then writes its header into.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <memory_resource>
#include <new>
#include <string>
#include <vector>

#include "pmr/allocation_scope.h"
#include "pmr/best_fit_resource.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/presets.h"
#include "pmr/routing_resource.h"
#include "pmr/scalable_resource.h"
#include "pmr/segregated_resource.h"

namespace allocbench {
namespace {

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kPtrdiffMax = std::size_t(std::numeric_limits<std::ptrdiff_t>::max());

// Sizes that no upstream can honour, each above PTRDIFF_MAX (so that no upstream, the sanitizers'
// included, is asked for them: those abort rather than throw on a merely huge size).
const std::size_t kImpossibleSizes[] = {kMax,        kMax - 1,        kMax - 20,   kMax - 100,
                                        kMax - 4096, kMax - 65536,    kPtrdiffMax + 1,
                                        kMax / 2 + 4096};
const std::size_t kAlignments[] = {1, 8, 16, 64, 4096, 8192, 65536};

// The figures an impossible request must leave as they were.
std::vector<std::uint64_t> figures(const resource_stats& s) {
  return {s.allocations,         s.deallocations,        s.live_blocks,    s.live_requested_bytes,
          s.live_usable_bytes,   s.live_bytes,           s.peak_live_bytes, s.total_requested_bytes,
          s.total_usable_bytes,  s.bytes_held,           s.peak_bytes_held};
}

// Every impossible (size, alignment) is bad_alloc and leaves `r`'s statistics unchanged; `r` still
// works afterwards.
void expect_rejects_impossible_sizes(instrumented_resource& r) {
  void* warm = r.allocate(64, 16);  // some state to keep, so that "unchanged" means something
  const std::vector<std::uint64_t> before = figures(r.stats());
  for (std::size_t bytes : kImpossibleSizes) {
    for (std::size_t alignment : kAlignments) {
      SCOPED_TRACE("allocate(" + std::to_string(bytes) + ", " + std::to_string(alignment) + ")");
      EXPECT_THROW((void)r.allocate(bytes, alignment), std::bad_alloc);
      EXPECT_EQ(figures(r.stats()), before);
    }
  }
  void* p = r.allocate(48, 16);
  r.deallocate(p, 48, 16);
  r.deallocate(warm, 64, 16);
}

// The issue's two reproductions, exactly.
TEST(ImpossibleSize, BestFitOverTheDefaultUpstream) {
  best_fit_resource r;  // upstream: std::pmr::get_default_resource(), new_delete_resource()
  ASSERT_EQ(r.upstream(), std::pmr::new_delete_resource());
  const std::vector<std::uint64_t> before = figures(r.stats());
  EXPECT_THROW((void)r.allocate(kMax - 100, 64), std::bad_alloc);
  EXPECT_EQ(figures(r.stats()), before);
  EXPECT_EQ(r.inspect().direct_blocks, 0u);
}

TEST(ImpossibleSize, RoutingWithUpstreamFallback) {
  const nlohmann::json layout = nlohmann::json::parse(R"({"name": "r", "resource": {"type": "routing",
      "routes": [{"max_size": 256, "resource": {"type": "fixed_slab", "block_size": 256}}],
      "fallback": "upstream"}})");
  auto r = build_resource(layout, "inline", std::pmr::new_delete_resource());
  const std::vector<std::uint64_t> before = figures(r->stats());
  EXPECT_THROW((void)r->allocate(kMax - 4096, 4096), std::bad_alloc);
  EXPECT_EQ(figures(r->stats()), before);
  expect_rejects_impossible_sizes(*r);
}

// The seed presets reach the upstream through their best-fit fallback; every other preset through
// whatever large path it has.
TEST(ImpossibleSize, EveryPresetOverNewDelete) {
  for (const std::string& name : preset_names()) {
    SCOPED_TRACE(name);
    auto r = make_preset(name, std::pmr::new_delete_resource());
    EXPECT_THROW((void)r->allocate(kMax - 100, 64), std::bad_alloc);
    expect_rejects_impossible_sizes(*r);
  }
}

// An upstream that counts the impossible requests that reach it (and refuses them), forwarding the
// rest to new_delete_resource(): "whatever the upstream is" means none may reach it at all, even
// where this upstream, unlike new_delete_resource(), would have failed cleanly.
class counting_upstream final : public std::pmr::memory_resource {
 public:
  std::size_t impossible_requests = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (bytes > kPtrdiffMax || alignment > kPtrdiffMax - bytes) {
      ++impossible_requests;
      throw std::bad_alloc();
    }
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

void expect_every_resource_rejects_impossible_sizes(std::pmr::memory_resource* up) {
  std::vector<std::pair<std::string, std::function<std::unique_ptr<instrumented_resource>()>>> makers = {
      {"best_fit", [&] { return std::make_unique<best_fit_resource>(best_fit_options{}, up); }},
      {"best_fit, direct threshold 0",
       [&] {
         best_fit_options o;
         o.direct_threshold = 0;
         return std::make_unique<best_fit_resource>(o, up);
       }},
      {"best_fit, no direct path",
       [&] {
         best_fit_options o;
         o.direct_threshold = kMax;  // every request carves a region: the region path must check
         return std::make_unique<best_fit_resource>(o, up);
       }},
      {"fixed_slab", [&] { return std::make_unique<fixed_slab_resource>(fixed_slab_options{}, up); }},
      {"segregated", [&] { return std::make_unique<segregated_resource>(segregated_options{}, up); }},
      {"scalable", [&] { return std::make_unique<scalable_resource>(scalable_options{}, up); }},
  };
  for (auto& [name, make] : makers) {
    SCOPED_TRACE(name);
    auto r = make();
    expect_rejects_impossible_sizes(*r);
  }
}

TEST(ImpossibleSize, EveryResourceOverNewDelete) {
  expect_every_resource_rejects_impossible_sizes(std::pmr::new_delete_resource());
}

TEST(ImpossibleSize, NoImpossibleRequestReachesAnyUpstream) {
  counting_upstream up;
  expect_every_resource_rejects_impossible_sizes(&up);
  EXPECT_EQ(up.impossible_requests, 0u);
  for (const std::string& name : preset_names()) {
    SCOPED_TRACE(name);
    expect_rejects_impossible_sizes(*make_preset(name, &up));
  }
  EXPECT_EQ(up.impossible_requests, 0u);
  observable_resource observed(&up);
  EXPECT_THROW((void)observed.allocate(kMax - 100, 64), std::bad_alloc);
  EXPECT_EQ(up.impossible_requests, 0u);
}

// observable_resource forwards every request: it must not pass an impossible one on either.
TEST(ImpossibleSize, ObservableResourceOverNewDelete) {
  observable_resource r(std::pmr::new_delete_resource());
  for (std::size_t bytes : kImpossibleSizes) {
    for (std::size_t alignment : kAlignments) {
      SCOPED_TRACE("allocate(" + std::to_string(bytes) + ", " + std::to_string(alignment) + ")");
      EXPECT_THROW((void)r.allocate(bytes, alignment), std::bad_alloc);
    }
  }
}

}  // namespace
}  // namespace allocbench
