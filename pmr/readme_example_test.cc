// The README's "plug a resource into your pmr containers" example, compiled and checked, so that the
// README cannot drift from what the library does.
#include <gtest/gtest.h>

#include <map>
#include <memory_resource>
#include <string>
#include <vector>

#include "pmr/presets.h"
#include "pmr/segregated_resource.h"

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

}  // namespace
}  // namespace allocbench
