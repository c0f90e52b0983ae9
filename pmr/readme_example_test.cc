// The README's "plug a resource into your pmr containers" and "Containers" examples, compiled and
// checked, so that the README cannot drift from what the library does.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory_resource>
#include <string>
#include <vector>

#include "pmr/allocation_scope.h"
#include "pmr/presets.h"
#include "pmr/replay_ring.h"
#include "pmr/segregated_resource.h"
#include "pmr/tensor_buffer.h"

namespace allocbench {
namespace {

TEST(ReadmeExample, PresetBehindPmrVectorAndMap) {
  // --- README example begins ---
  auto pool = allocbench::make_preset("scalable");  // or load_resource("my_layout.json")

  std::pmr::vector<float> observation(84 * 84, 0.0f, pool.get());
  std::pmr::map<std::pmr::string, std::pmr::vector<int>> episodes(pool.get());
  episodes["episode-1"].assign({1, 2, 3});  // key, value and tree nodes all come from `pool`

  allocbench::resource_stats s = pool->stats();
  // s.live_blocks, s.peak_live_bytes, s.overhead_ratio(), s.classes[i] (one per size class) ...
  // --- README example ends ---

  EXPECT_EQ(episodes.get_allocator().resource(), pool.get());
  EXPECT_EQ(episodes.at("episode-1").get_allocator().resource(), pool.get());
  // The vector's buffer, the map node, and the inner vector's buffer at least.
  EXPECT_GE(s.live_blocks, 3u);
  EXPECT_GE(s.live_usable_bytes, observation.size() * sizeof(float));
  EXPECT_GE(s.overhead_ratio(), 1.0);
  ASSERT_FALSE(s.classes.empty());
  EXPECT_EQ(s.classes.back().name, "large");  // blocks above the largest class
}

TEST(ReadmeExample, SeedPresetRoutesBySize) {
  auto seed = allocbench::make_preset("seed_baseline");
  std::pmr::vector<char> v(20, 'x', seed.get());
  const allocbench::resource_stats s = seed->stats();
  ASSERT_EQ(s.classes.size(), 5u);  // four routes and the best-fit fallback
  EXPECT_EQ(s.classes[0].name, "slab32");
  EXPECT_EQ(s.classes[0].live_blocks, 1u);
}

TEST(ReadmeExample, ResourceBuiltInCode) {
  allocbench::segregated_options options;
  options.classes = {64, 256, 1024, 4096};
  options.mode = allocbench::lock_mode::per_class_arena;
  allocbench::segregated_resource classes(options);  // upstream: std::pmr::get_default_resource()
  {
    std::pmr::vector<double> v(100, 1.0, &classes);  // 800 bytes: the 1024 class
    EXPECT_EQ(classes.stats().classes[2].live_blocks, 1u);
  }
  EXPECT_EQ(classes.stats().live_blocks, 0u);
  EXPECT_THROW((void)classes.allocate(5000), std::bad_alloc);  // larger than the largest class
}

TEST(ReadmeExample, Containers) {
  // --- README example begins ---
  auto pool = allocbench::make_preset("scalable");

  // tensor_buffer: shaped and 64-byte aligned; resize keeps the contents.
  allocbench::tensor_buffer<float> obs({4, 84, 84}, pool.get());  // zero-filled
  obs[0] = 1.0f;                                                  // flat, row-major index
  obs.resize({8, 84, 84});                                        // obs[0] is still 1; new frames are 0

  // replay_ring: fixed capacity; push builds the element with the ring's resource and drops the oldest.
  allocbench::replay_ring<allocbench::tensor_buffer<float>> replay(100, pool.get());
  for (int step = 0; step < 150; ++step) replay.push(allocbench::tensor_shape{84, 84});
  const allocbench::tensor_buffer<float>& frame = replay.sample(42);  // 0 = oldest; bounds-checked

  // allocation_scope: what one step allocated on this thread, plus scratch memory freed at its close.
  allocbench::scope_report step;
  {
    allocbench::allocation_scope scope(*pool, allocbench::scratch_arena);
    scope.report_on_close(step);
    allocbench::tensor_buffer<float> activations({256, 512}, &scope.scratch());
  }
  // step.allocations, step.peak_bytes; step.live_bytes == 0 (the scratch went back at close)
  // --- README example ends ---

  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(obs.data()) % 64, 0u);
  EXPECT_EQ(obs.size(), 8u * 84 * 84);
  EXPECT_EQ(obs[0], 1.0f);
  EXPECT_EQ(obs[4 * 84 * 84], 0.0f);
  EXPECT_EQ(obs.get_allocator().resource(), pool.get());
  EXPECT_EQ(replay.size(), 100u);
  EXPECT_EQ(frame.size(), 84u * 84);
  EXPECT_EQ(frame.get_allocator().resource(), pool.get()) << "elements use the ring's resource";
  EXPECT_GE(step.allocations, 1u);  // the scratch arena's chunk(s), taken from `pool`
  EXPECT_EQ(step.allocations, step.deallocations);
  EXPECT_EQ(step.live_bytes, 0);
  EXPECT_GE(step.peak_bytes, 256u * 512 * sizeof(float));
}

}  // namespace
}  // namespace allocbench
