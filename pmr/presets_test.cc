#include "pmr/presets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "allocator/invalid_free.h"
#include "pmr/best_fit_resource.h"
#include "pmr/config_error.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/routing_resource.h"
#include "pmr/segregated_resource.h"
#include "pmr/testing/allocation_script.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/model_checker.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::invalid_free_recorder;
using testing::model_checker;
using testing::model_options;
using testing::test_upstream;

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();

// Test data reaches the test through Bazel runfiles; the test runs in the workspace's runfiles
// directory, so paths relative to the workspace root work as they are.
const std::string kTestdata = "testdata/allocators/";

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes the first and last bytes of a block: enough for asan to see a block that is too short,
// without the cost of filling large blocks under tsan.
void touch(void* p, std::size_t bytes) {
  const std::size_t edge = bytes < 64 ? bytes : 64;
  std::memset(p, 0x22, edge);
  std::memset(static_cast<std::byte*>(p) + bytes - edge, 0x22, edge);
}

routing_resource& as_router(instrumented_resource& r) {
  auto* router = dynamic_cast<routing_resource*>(&r);
  if (router == nullptr) throw std::logic_error("not a routing_resource: " + std::string(r.kind()));
  return *router;
}

// The entry of stats().classes with that name, or a failure.
class_stats entry(const resource_stats& s, const std::string& name) {
  for (const class_stats& c : s.classes) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no stats entry named " << name;
  return {};
}

TEST(Presets, TestDataIsReachableFromTheWorkingDirectory) {
  // Everything below relies on this; a clear message beats a cascade of "cannot open file".
  ASSERT_TRUE(std::filesystem::exists(kTestdata + "good_layout.json"))
      << "working directory: " << std::filesystem::current_path();
  ASSERT_TRUE(std::filesystem::exists("configs/allocators/seed_baseline.json"));
}

// ---------------------------------------------------------------------------------------------------
// The preset list and texts.

TEST(Presets, NamesAreSortedAndIncludeTheSeeds) {
  const std::vector<std::string> names = preset_names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_NE(std::find(names.begin(), names.end(), "seed_baseline"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "seed_sharded"), names.end());
}

TEST(Presets, EveryNameHasAFileWithTheEmbeddedText) {
  // The embedded text must be the file, byte for byte: a stale build would otherwise benchmark a
  // layout nobody can read.
  for (const std::string& name : preset_names()) {
    SCOPED_TRACE(name);
    const std::string path = "configs/allocators/" + name + ".json";
    ASSERT_TRUE(std::filesystem::exists(path));
    EXPECT_EQ(preset_text(name), read_text(path));
    // And the file says its own name.
    EXPECT_EQ(nlohmann::json::parse(preset_text(name)).at("name"), name);
  }
}

TEST(Presets, EveryPresetBuildsAndServesEachRoute) {
  for (const std::string& name : preset_names()) {
    SCOPED_TRACE(name);
    test_upstream up;
    std::unique_ptr<instrumented_resource> r = make_preset(name, &up);
    ASSERT_NE(r, nullptr);
    for (std::size_t bytes : {0, 1, 100, 1000, 10000, 100000, 1000000}) {
      void* p = r->allocate(bytes, 16);
      std::memset(p, 1, bytes);
      r->deallocate(p, bytes, 16);
    }
    EXPECT_EQ(r->stats().live_blocks, 0u);
  }
}

TEST(Presets, UnknownNameThrowsInvalidArgumentListingTheKnownOnes) {
  try {
    (void)make_preset("seed_baseline_typo");
    FAIL() << "no exception";
  } catch (const config_error&) {
    FAIL() << "an unknown preset is not a bad file";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("seed_baseline_typo"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("seed_sharded"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)preset_text("nope"), std::invalid_argument);
  EXPECT_THROW((void)make_preset(""), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------
// The two seed layouts, exactly as the origin report describes them.

struct seed_layout {
  const char* name;
  lock_mode mode;
};

// Names the parameter in failure messages instead of dumping its bytes.
void PrintTo(const seed_layout& s, std::ostream* os) { *os << s.name; }

class SeedPreset : public ::testing::TestWithParam<seed_layout> {};

TEST_P(SeedPreset, HasTheReportsRouteTable) {
  test_upstream up;
  std::unique_ptr<instrumented_resource> r = make_preset(GetParam().name, &up);
  EXPECT_EQ(r->kind(), "routing");
  routing_resource& router = as_router(*r);
  EXPECT_EQ(router.upstream(), &up);
  const std::vector<route>& routes = router.routes();
  ASSERT_EQ(routes.size(), 4u);

  // Three slabs with thread caches of 64, 32 and 32 entries.
  const struct {
    std::size_t max_size;
    const char* label;
    std::size_t thread_cache;
  } slabs[] = {{32, "slab32", 64}, {128, "slab128", 32}, {256, "slab256", 32}};
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(slabs[i].label);
    EXPECT_EQ(routes[i].max_size, slabs[i].max_size);
    EXPECT_EQ(routes[i].label, slabs[i].label);
    const auto* slab = dynamic_cast<const fixed_slab_resource*>(routes[i].resource.get());
    ASSERT_NE(slab, nullptr);
    EXPECT_EQ(slab->block_size(), slabs[i].max_size);
    EXPECT_EQ(slab->thread_cache_entries(), slabs[i].thread_cache);
    // No max_alignment in the file: the route takes what the slab honours (its block size here).
    EXPECT_EQ(routes[i].max_alignment, slab->block_alignment());
    EXPECT_EQ(slab->block_alignment(), slabs[i].max_size);
  }

  // 257..4096 to size classes, under the lock mode that tells the presets apart.
  EXPECT_EQ(routes[3].max_size, 4096u);
  EXPECT_EQ(routes[3].label, "segregated");
  const auto* classes = dynamic_cast<const segregated_resource*>(routes[3].resource.get());
  ASSERT_NE(classes, nullptr);
  EXPECT_EQ(classes->classes(), (std::vector<std::size_t>{512, 1024, 2048, 4096}));
  EXPECT_EQ(classes->mode(), GetParam().mode);
  EXPECT_EQ(routes[3].max_alignment, 4096u);

  // Above 4096: a best-fit heap.
  const auto* heap = dynamic_cast<const best_fit_resource*>(router.fallback());
  ASSERT_NE(heap, nullptr);
  EXPECT_EQ(heap->options().region_bytes, 1u << 20);
  EXPECT_EQ(heap->options().direct_threshold, 256u * 1024);
  EXPECT_FALSE(heap->options().release_empty_regions);
}

// The ranges of the issue, at every boundary: up to 32 -> slab32, 33..128 -> slab128,
// 129..256 -> slab256, 257..4096 -> segregated, above -> best fit. Checked both through target()
// and by allocating and watching which stats entry counts the call.
TEST_P(SeedPreset, RoutesEverySizeRangeToItsChild) {
  test_upstream up;
  std::unique_ptr<instrumented_resource> r = make_preset(GetParam().name, &up);
  routing_resource& router = as_router(*r);
  const std::vector<route>& routes = router.routes();
  const struct {
    std::size_t bytes;
    const char* label;
  } cases[] = {{0, "slab32"},       {1, "slab32"},        {32, "slab32"},          {33, "slab128"},
               {128, "slab128"},    {129, "slab256"},     {256, "slab256"},        {257, "segregated"},
               {4096, "segregated"}, {4097, "fallback"},   {1 << 20, "fallback"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.bytes << " bytes");
    const instrumented_resource* expected = router.fallback();
    for (const route& rt : routes) {
      if (rt.label == c.label) expected = rt.resource.get();
    }
    // Alignment 1 and the default (max_align_t) must route alike for these sizes.
    EXPECT_EQ(router.target(c.bytes, 1), expected);
    EXPECT_EQ(router.target(c.bytes, alignof(std::max_align_t)), expected);

    const std::uint64_t before = entry(r->stats(), c.label).allocations;
    void* p = r->allocate(c.bytes);
    std::memset(p, 0x11, c.bytes);
    EXPECT_EQ(entry(r->stats(), c.label).allocations, before + 1);
    r->deallocate(p, c.bytes);
    EXPECT_EQ(entry(r->stats(), c.label).deallocations, before + 1);
  }
  // A small size at an alignment its slab cannot give moves on to the next route that can.
  EXPECT_EQ(router.target(16, 64), routes[1].resource.get());
  EXPECT_EQ(router.target(200, 512), routes[3].resource.get());
  EXPECT_EQ(router.target(100, 8192), router.fallback());
}

TEST_P(SeedPreset, LoadingTheFileBuildsTheSameLayout) {
  test_upstream up;
  const std::string path = std::string("configs/allocators/") + GetParam().name + ".json";
  std::unique_ptr<instrumented_resource> from_file = load_resource(path, &up);
  std::unique_ptr<instrumented_resource> preset = make_preset(GetParam().name, &up);
  const auto& a = as_router(*from_file).routes();
  const auto& b = as_router(*preset).routes();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].max_size, b[i].max_size);
    EXPECT_EQ(a[i].max_alignment, b[i].max_alignment);
    EXPECT_EQ(a[i].label, b[i].label);
    EXPECT_EQ(a[i].resource->kind(), b[i].resource->kind());
  }
}

TEST_P(SeedPreset, HonoursTheSharedContract) {
  test_upstream up;
  std::unique_ptr<instrumented_resource> r = make_preset(GetParam().name, &up);
  // allocate(0): valid and distinct.
  void* a = r->allocate(0);
  void* b = r->allocate(0);
  EXPECT_NE(a, b);
  // A non-power-of-two alignment: invalid_argument, whatever the size.
  for (std::size_t bytes : {8, 200, 3000, 100000}) {
    EXPECT_THROW((void)r->allocate(bytes, 24), std::invalid_argument);
  }
  // Sizes near SIZE_MAX: bad_alloc, nothing changes.
  const resource_stats before = r->stats();
  for (std::size_t bytes : {kMax, kMax - 1, kMax - 40}) {
    EXPECT_THROW((void)r->allocate(bytes), std::bad_alloc);
    EXPECT_THROW((void)r->allocate(bytes, 4096), std::bad_alloc);
  }
  const resource_stats after = r->stats();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  EXPECT_EQ(after.bytes_held, before.bytes_held);
  // Identity.
  EXPECT_TRUE(r->is_equal(*r));
  std::unique_ptr<instrumented_resource> other = make_preset(GetParam().name, &up);
  EXPECT_FALSE(r->is_equal(*other));
  r->deallocate(a, 0);
  r->deallocate(b, 0);
}

TEST_P(SeedPreset, ReleaseAndDestructorGiveEverythingBack) {
  test_upstream up;
  {
    std::unique_ptr<instrumented_resource> r = make_preset(GetParam().name, &up);
    for (std::size_t bytes : {8, 100, 200, 1000, 4000, 50000, 300000}) (void)r->allocate(bytes);
    EXPECT_GE(up.outstanding_blocks(), 6u);
    EXPECT_EQ(r->stats().bytes_held, up.outstanding_bytes());
    r->release();
    EXPECT_EQ(up.outstanding_blocks(), 0u);
    EXPECT_EQ(r->stats().live_blocks, 0u);
    // Usable after release; the destructor takes back what this leaves.
    for (std::size_t bytes : {8, 100, 200, 1000, 4000, 50000, 300000}) (void)r->allocate(bytes);
    EXPECT_GE(up.outstanding_blocks(), 6u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST_P(SeedPreset, RandomisedModelTest) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    test_upstream up;
    std::unique_ptr<instrumented_resource> r = make_preset(GetParam().name, &up);
    {
      model_checker m(*r, [&] { return r->stats(); });
      model_options o;
      o.seed = seed;
      o.operations = 1000;
      o.max_live = 200;
      // Every route, the fallback's regions and its direct path, at the boundaries and between.
      o.sizes = {0, 1, 31, 32, 33, 100, 128, 129, 200, 256, 257, 500, 1000, 2048, 4095, 4096, 4097,
                 10000, 100000, 262144, 262145};
      o.alignments = {1, 8, 16, 32, 64, 256, 4096};
      m.run(o);
      EXPECT_EQ(r->stats().bytes_held, up.outstanding_bytes());
    }
    EXPECT_EQ(r->stats().live_blocks, 0u);
  }
}

// Allocations across every route, with frees in between; on a failing upstream each allocate that
// throws must change nothing, and the preset must go on working and leak nothing.
std::size_t run_script(instrumented_resource& r, std::uint64_t seed, std::size_t steps) {
  std::mt19937_64 rng(seed);
  const std::size_t sizes[] = {16, 100, 200, 1000, 3000, 4096, 20000, 300000};
  struct live {
    void* p;
    std::size_t bytes;
  };
  std::vector<live> blocks;
  std::size_t bad_allocs = 0;
  for (std::size_t i = 0; i < steps; ++i) {
    if (blocks.empty() || rng() % 4 != 0) {
      const std::size_t bytes = sizes[rng() % std::size(sizes)];
      const resource_stats before = r.stats();
      void* p;
      try {
        p = r.allocate(bytes);
      } catch (const std::bad_alloc&) {
        ++bad_allocs;
        const resource_stats after = r.stats();
        EXPECT_EQ(after.allocations, before.allocations);
        EXPECT_EQ(after.live_blocks, before.live_blocks);
        EXPECT_EQ(after.bytes_held, before.bytes_held);
        p = r.allocate(bytes);
      }
      touch(p, bytes);
      blocks.push_back({p, bytes});
    } else {
      const std::size_t k = rng() % blocks.size();
      r.deallocate(blocks[k].p, blocks[k].bytes);
      blocks[k] = blocks.back();
      blocks.pop_back();
    }
  }
  for (const live& b : blocks) r.deallocate(b.p, b.bytes);
  return bad_allocs;
}

TEST_P(SeedPreset, UpstreamFailureAtEveryCallLeavesItUsableAndLeakFree) {
  testing::expect_every_upstream_failure_survived(
      [&](testing::upstream_failure& f) {
        std::unique_ptr<instrumented_resource> r = make_preset(GetParam().name, &f.up);
        f.arm();
        const std::size_t bad_allocs = run_script(*r, 5, 400);
        EXPECT_EQ(r->stats().bytes_held, f.up.outstanding_bytes());
        return bad_allocs;
      },
      9);
}

INSTANTIATE_TEST_SUITE_P(Seeds, SeedPreset,
                         ::testing::Values(seed_layout{"seed_baseline", lock_mode::global},
                                           seed_layout{"seed_sharded", lock_mode::per_class}),
                         [](const ::testing::TestParamInfo<seed_layout>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------------
// Bad layout files: each must fail with the file, the field's JSON path and the reason.

struct bad_file {
  const char* file;    // in testdata/allocators/
  const char* field;   // the exact JSON path; "" for the whole file
  const char* reason;  // a part of the reason
};

// The exact paths of the two deep files' errors (issue 15, defect 4): the 33rd routing node of
// bad_routing_too_deep.json, and the first array of bad_deep_array.json's 500 below the 128-level
// limit ("region_bytes" is level 3).
std::string repeated(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}
const std::string kTooDeepRoutingField = "resource" + repeated(".routes[0].resource", 32) + ".type";
const std::string kDeepArrayField = "resource.region_bytes" + repeated("[0]", 126);

const bad_file kBadFiles[] = {
    {"bad_routing_too_deep.json", kTooDeepRoutingField.c_str(), "routing nodes nest deeper than 32 levels"},
    {"bad_deep_array.json", kDeepArrayField.c_str(), "arrays and objects nest deeper than 128 levels"},
    {"bad_nested_array_value.json", "resource.region_bytes",
     "must be a non-negative integer, got array [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[..."},
    {"bad_alignment_above_child.json", "resource.routes[0].max_alignment", "honours alignments up to 32"},
    {"bad_classes_not_ascending.json", "resource.classes[2]", "strictly ascending"},
    {"bad_empty_name.json", "name", "must not be empty"},
    {"bad_empty_routes.json", "resource.routes", "at least one route"},
    {"bad_fallback.json", "resource.fallback", "must be a resource node or \"upstream\""},
    {"bad_lock_mode.json", "resource.lock_mode", "unknown lock_mode 'sharded'"},
    {"bad_max_alignment.json", "resource.routes[0].max_alignment", "must be a power of two, got 48"},
    {"bad_missing_fallback.json", "resource.fallback", "required field is missing"},
    {"bad_missing_field.json", "resource.routes[0].resource.block_size", "required field is missing"},
    {"bad_negative_number.json", "resource.region_bytes", "must not be negative, got -4"},
    {"bad_nested_field.json", "resource.routes[1].resource.routes[0].resource.lock_mode",
     "unknown lock_mode 'per-class'"},
    {"bad_not_an_object.json", "", "must be a JSON object"},
    {"bad_options_rejected.json", "resource", "rejected by the resource"},
    {"bad_route_not_object.json", "resource.routes[0]", "must be a JSON object"},
    {"bad_route_too_large.json", "resource.routes[0].max_size", "cannot serve requests of 64 bytes"},
    {"bad_syntax.json", "", "invalid JSON"},
    {"bad_top_level_field.json", "resorce", "unknown field"},
    {"bad_unknown_field.json", "resource.thread_cach", "unknown field"},
    {"bad_unknown_type.json", "resource.type", "unknown resource type 'buddy'"},
    {"bad_unsorted_routes.json", "resource.routes[1].max_size", "sorted by max_size ascending"},
    {"bad_wrong_type.json", "resource.chunk_bytes", "must be a non-negative integer, got string"},
    {"bad_zero_block_size.json", "resource.block_size", "must be a positive integer, got 0"},
    {"bad_zero_chunk_bytes.json", "resource.chunk_bytes", "must be a positive integer, got 0"},
    {"bad_zero_max_alignment.json", "resource.routes[0].max_alignment", "must be a power of two, got 0"},
};

TEST(LayoutLoader, EveryBadFileFailsWithFileFieldAndReason) {
  for (const bad_file& bad : kBadFiles) {
    const std::string path = kTestdata + bad.file;
    SCOPED_TRACE(path);
    ASSERT_TRUE(std::filesystem::exists(path));
    test_upstream up;  // nothing built before the error may stay allocated
    try {
      (void)load_resource(path, &up);
      ADD_FAILURE() << "loaded without an error";
    } catch (const config_error& e) {
      EXPECT_EQ(e.file(), path);
      EXPECT_EQ(e.field(), bad.field);
      EXPECT_NE(e.reason().find(bad.reason), std::string::npos) << "reason: " << e.reason();
      // what() says all three, in the documented form.
      const std::string field = e.field().empty() ? "(top level)" : e.field();
      EXPECT_EQ(std::string(e.what()), path + ": " + field + ": " + e.reason());
    }
    EXPECT_EQ(up.outstanding_blocks(), 0u);
  }
}

// A bad_*.json added to testdata without an expectation above would go untested.
TEST(LayoutLoader, EveryBadFileInTestdataIsCovered) {
  std::set<std::string> covered;
  for (const bad_file& bad : kBadFiles) covered.insert(bad.file);
  std::size_t seen = 0;
  for (const auto& f : std::filesystem::directory_iterator(kTestdata)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("bad_", 0) != 0) continue;
    ++seen;
    EXPECT_EQ(covered.count(name), 1u) << name << " has no expectation in kBadFiles";
  }
  EXPECT_EQ(seen, std::size(kBadFiles));
}

TEST(LayoutLoader, MissingFileNamesTheFile) {
  const std::string path = kTestdata + "no_such_layout.json";
  try {
    (void)load_resource(path);
    FAIL() << "no exception";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.field(), "");
    EXPECT_EQ(e.reason(), "cannot open file");
  }
}

// A path that opens but cannot be read used to escape as std::ios_base::failure, naming no file.
TEST(LayoutLoader, DirectoryInsteadOfAFileNamesThePath) {
  try {
    (void)load_resource(kTestdata);
    FAIL() << "no exception";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), kTestdata);
    EXPECT_EQ(e.field(), "");
    EXPECT_FALSE(e.reason().empty());
  }
}

// Layouts given as JSON text (build_resource), one mistake each, for the cases no file covers.
TEST(LayoutLoader, InlineLayoutErrorsNameTheField) {
  const struct {
    const char* json;
    const char* field;
    const char* reason;
  } cases[] = {
      {R"({"resource": {"type": "best_fit"}})", "name", "required field is missing"},
      {R"({"name": "x", "description": 1, "resource": {"type": "best_fit"}})", "description", "must be a string"},
      {R"({"name": "x", "resource": 3})", "resource", "must be a JSON object"},
      {R"({"name": "x", "resource": {"type": 5}})", "resource.type", "must be a string"},
      {R"({"name": "x", "resource": {"type": "fixed_slab", "block_size": 1.5}})", "resource.block_size",
       "must be a non-negative integer"},
      {R"({"name": "x", "resource": {"type": "fixed_slab", "block_size": 18446744073709551616}})",
       "resource.block_size", "must be at most 18446744073709551615"},
      {R"({"name": "x", "resource": {"type": "fixed_slab", "block_size": 8, "thread_cache": 99999999999}})",
       "resource", "rejected by the resource"},
      {R"({"name": "x", "resource": {"type": "best_fit", "checked": "yes"}})", "resource.checked",
       "must be true or false"},
      {R"({"name": "x", "resource": {"type": "segregated", "classes": []}})", "resource.classes",
       "at least 1 element"},
      {R"({"name": "x", "resource": {"type": "segregated", "classes": [64, -1]}})", "resource.classes[1]",
       "must not be negative, got -1"},
      {R"({"name": "x", "resource": {"type": "routing", "routes": {}, "fallback": "upstream"}})",
       "resource.routes", "must be an array"},
      {R"({"name": "x", "resource": {"type": "routing", "routes": [{"max_size": 8, "label": 3,
          "resource": {"type": "best_fit"}}], "fallback": "upstream"}})",
       "resource.routes[0].label", "must be a string"},
      {R"({"name": "x", "resource": {"type": "routing", "routes": [{"max_size": 8, "max_alignment": 8192,
          "resource": {"type": "best_fit"}}], "fallback": "upstream"}})",
       "resource.routes[0].max_alignment", "honours alignments up to 4096"},
      {R"({"name": "x", "resource": {"type": "routing", "routes": [{"max_size": 8,
          "resource": {"type": "best_fit"}}], "fallback": null}})",
       "resource.fallback", "must be a resource node"},
      {R"({"name": "x", "resource": {"type": "routing", "routes": [{"max_size": 8,
          "resource": {"type": "best_fit"}}], "fallback": {"type": "best_fit", "region_bytes": 0}}})",
       "resource.fallback.region_bytes", "must be a positive integer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    test_upstream up;
    try {
      (void)build_resource(nlohmann::json::parse(c.json), "inline", &up);
      ADD_FAILURE() << "built without an error";
    } catch (const config_error& e) {
      EXPECT_EQ(e.file(), "inline");
      EXPECT_EQ(e.field(), c.field);
      EXPECT_NE(e.reason().find(c.reason), std::string::npos) << "reason: " << e.reason();
    }
    EXPECT_EQ(up.outstanding_blocks(), 0u);
  }
}

TEST(LayoutLoader, ConfigErrorIsAnInvalidArgument) {
  EXPECT_THROW((void)load_resource(kTestdata + "bad_syntax.json"), std::invalid_argument);
}

TEST(LayoutLoader, BuildResourceNamesTheSourceAndRejectsNullUpstream) {
  const nlohmann::json layout = nlohmann::json::parse(R"({"name": "x", "resource": {"type": "best_fit", "region_bytes": 0}})");
  try {
    (void)build_resource(layout, "inline layout", std::pmr::new_delete_resource());
    FAIL() << "no exception";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "inline layout");
    EXPECT_EQ(e.field(), "resource.region_bytes");
  }
  const nlohmann::json good = nlohmann::json::parse(R"({"name": "x", "resource": {"type": "best_fit"}})");
  EXPECT_THROW((void)build_resource(good, "inline layout", nullptr), std::invalid_argument);
  EXPECT_NE(build_resource(good, "inline layout", std::pmr::new_delete_resource()), nullptr);
}

// ---------------------------------------------------------------------------------------------------
// The good layout: every resource type (but scalable), nested two deep.

TEST(LayoutLoader, GoodLayoutBuildsTheDescribedTree) {
  test_upstream up;
  std::unique_ptr<instrumented_resource> r = load_resource(kTestdata + "good_layout.json", &up);
  routing_resource& router = as_router(*r);
  EXPECT_EQ(router.fallback(), nullptr);  // "fallback": "upstream"
  const auto& routes = router.routes();
  ASSERT_EQ(routes.size(), 3u);

  EXPECT_EQ(routes[0].label, "tiny");
  EXPECT_EQ(routes[0].max_size, 64u);
  const auto* tiny = dynamic_cast<const fixed_slab_resource*>(routes[0].resource.get());
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ(tiny->block_size(), 64u);
  EXPECT_EQ(tiny->thread_cache_entries(), 8u);
  EXPECT_EQ(routes[0].max_alignment, tiny->block_alignment());

  EXPECT_EQ(routes[1].label, "classes");
  EXPECT_EQ(routes[1].max_size, 1024u);
  EXPECT_EQ(routes[1].max_alignment, 256u);  // explicit in the file
  const auto* classes = dynamic_cast<const segregated_resource*>(routes[1].resource.get());
  ASSERT_NE(classes, nullptr);
  EXPECT_EQ(classes->classes(), (std::vector<std::size_t>{128, 256, 512, 1024}));
  EXPECT_EQ(classes->mode(), lock_mode::per_class_arena);

  EXPECT_EQ(routes[2].label, "inner");
  EXPECT_EQ(routes[2].max_size, 65536u);
  EXPECT_EQ(routes[2].max_alignment, 4096u);  // a routing child takes any alignment up to 4096
  const routing_resource& inner = as_router(*routes[2].resource);
  ASSERT_EQ(inner.routes().size(), 1u);
  EXPECT_EQ(inner.routes()[0].label, "segregated");  // no label: the child's kind
  EXPECT_EQ(inner.routes()[0].max_size, 2048u);
  const auto* heap = dynamic_cast<const best_fit_resource*>(inner.fallback());
  ASSERT_NE(heap, nullptr);
  EXPECT_EQ(heap->options().region_bytes, 262144u);
  EXPECT_EQ(heap->options().direct_threshold, 32768u);

  // Where requests go.
  EXPECT_EQ(router.target(64, 64), routes[0].resource.get());
  EXPECT_EQ(router.target(65, 1), routes[1].resource.get());
  EXPECT_EQ(router.target(64, 128), routes[1].resource.get());
  EXPECT_EQ(router.target(1024, 512), routes[2].resource.get());
  EXPECT_EQ(router.target(65536, 1), routes[2].resource.get());
  EXPECT_EQ(router.target(65537, 1), nullptr);
  EXPECT_EQ(router.target(16, 8192), nullptr);
}

TEST(LayoutLoader, GoodLayoutWorks) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    test_upstream up;
    std::unique_ptr<instrumented_resource> r = load_resource(kTestdata + "good_layout.json", &up);
    {
      model_checker m(*r, [&] { return r->stats(); });
      model_options o;
      o.seed = seed;
      o.operations = 1000;
      o.max_live = 200;
      o.sizes = {0, 1, 64, 65, 128, 1000, 1024, 1025, 2048, 2049, 30000, 40000, 65536, 65537, 100000};
      o.alignments = {1, 16, 64, 128, 256, 512, 4096, 8192};
      m.run(o);
      EXPECT_EQ(r->stats().bytes_held, up.outstanding_bytes());
    }
    const resource_stats s = r->stats();
    EXPECT_EQ(s.live_blocks, 0u);
    ASSERT_EQ(s.classes.size(), 4u);
    EXPECT_EQ(s.classes[0].name, "tiny");
    EXPECT_EQ(s.classes[1].name, "classes");
    EXPECT_EQ(s.classes[2].name, "inner");
    EXPECT_EQ(s.classes[3].name, "upstream");
    for (const class_stats& c : s.classes) EXPECT_GT(c.allocations, 0u) << c.name << " never used";
  }
}

// good_layout asks for checked mode on the router and the tiny slab, whatever the build's default.
TEST(LayoutLoader, GoodLayoutChecksWhereItAsksTo) {
  invalid_free_recorder handler;
  auto& reports = invalid_free_recorder::reports();
  test_upstream up;
  std::unique_ptr<instrumented_resource> r = load_resource(kTestdata + "good_layout.json", &up);
  void* direct = r->allocate(70000);
  r->deallocate(direct, 70000);
  r->deallocate(direct, 70000);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, invalid_free_kind::double_free);
  EXPECT_EQ(reports[0].resource, "routing");

  void* small = r->allocate(40);
  r->deallocate(small, 40);
  r->deallocate(small, 40);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].kind, invalid_free_kind::double_free);
  EXPECT_EQ(reports[1].resource, "fixed_slab");
  EXPECT_EQ(r->stats().live_blocks, 0u);
}

}  // namespace
}  // namespace allocbench
