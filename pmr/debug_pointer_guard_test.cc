// The debug pointer guard as a layout option of the seed presets (pmr/debug_pointer_guard.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <thread>
#include <vector>

#include "pmr/config_error.h"
#include "pmr/presets.h"
#include "pmr/routing_resource.h"
#include "pmr/testing/invalid_free_recorder.h"

namespace allocbench {
namespace {

// The preset's layout with "debug_pointer_guard" set on its routing node, as a sweep's layout knob
// sets it.
std::unique_ptr<instrumented_resource> seed_with_guard(const char* preset, bool guard) {
  nlohmann::json layout = nlohmann::json::parse(preset_text(preset));
  layout["resource"]["debug_pointer_guard"] = guard;
  return build_resource(layout, "test layout", std::pmr::new_delete_resource());
}

routing_resource& as_router(instrumented_resource& r) {
  auto* router = dynamic_cast<routing_resource*>(&r);
  EXPECT_NE(router, nullptr);
  return *router;
}

TEST(DebugPointerGuard, OffInThePresetsAsShipped) {
  for (const char* name : {"seed_baseline", "seed_sharded"}) {
    auto r = make_preset(name);
    void* p = r->allocate(64, 8);
    EXPECT_EQ(as_router(*r).guarded_live_blocks(), 0u) << name;
    r->deallocate(p, 64, 8);
  }
}

TEST(DebugPointerGuard, RecordsEveryLiveBlockOfEveryRoute) {
  for (const char* name : {"seed_baseline", "seed_sharded"}) {
    auto r = seed_with_guard(name, true);
    routing_resource& router = as_router(*r);
    // One size per route (slabs, size classes, best fit) and one past the best fit's direct threshold.
    const std::vector<std::size_t> sizes = {16, 100, 200, 1000, 8000, 300000};
    std::vector<void*> blocks;
    for (std::size_t s : sizes) blocks.push_back(r->allocate(s, 8));
    EXPECT_EQ(router.guarded_live_blocks(), sizes.size()) << name;
    for (std::size_t i = 0; i < sizes.size(); ++i) r->deallocate(blocks[i], sizes[i], 8);
    EXPECT_EQ(router.guarded_live_blocks(), 0u) << name;
    EXPECT_EQ(r->stats().live_blocks, 0u) << name;
  }
}

TEST(DebugPointerGuard, ReportsAForeignPointerAndIgnoresItsFree) {
  testing::invalid_free_recorder recorder;
  auto guarded = seed_with_guard("seed_baseline", true);
  auto other = make_preset("seed_baseline");
  void* mine = guarded->allocate(64, 8);
  void* foreign = other->allocate(64, 8);
  guarded->deallocate(foreign, 64, 8);
  ASSERT_EQ(recorder.reports().size(), 1u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(recorder.reports()[0].pointer, foreign);
  EXPECT_EQ(guarded->stats().live_blocks, 1u);  // the foreign free changed nothing
  guarded->deallocate(mine, 64, 8);
  guarded->deallocate(mine, 64, 8);  // a second free is not live either
  EXPECT_EQ(recorder.reports().size(), 2u);
  EXPECT_EQ(guarded->stats().live_blocks, 0u);
  other->deallocate(foreign, 64, 8);
}

TEST(DebugPointerGuard, ThreadsShareOneGuard) {
  auto r = seed_with_guard("seed_sharded", true);
  constexpr int kThreads = 4;
  constexpr int kBlocks = 500;
  std::vector<std::vector<void*>> held(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBlocks; ++i) held[t].push_back(r->allocate(std::size_t(16 + 8 * (i % 100)), 8));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(as_router(*r).guarded_live_blocks(), std::size_t(kThreads * kBlocks));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kBlocks; ++i) r->deallocate(held[t][i], std::size_t(16 + 8 * (i % 100)), 8);
  }
  EXPECT_EQ(as_router(*r).guarded_live_blocks(), 0u);
}

TEST(DebugPointerGuard, RejectsANonBooleanValue) {
  nlohmann::json layout = nlohmann::json::parse(preset_text("seed_baseline"));
  layout["resource"]["debug_pointer_guard"] = "yes";
  EXPECT_THROW(build_resource(layout, "test layout", std::pmr::new_delete_resource()), config_error);
}

}  // namespace
}  // namespace allocbench
