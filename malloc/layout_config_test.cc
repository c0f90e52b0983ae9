#include "malloc/layout_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "pmr/config_error.h"

namespace allocbench::malloc_detail {
namespace {

std::string write_layout(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::filesystem::path path = std::filesystem::path(dir != nullptr ? dir : "/tmp") / name;
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::string& file) {
  try {
    (void)malloc_layout(file.c_str());
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

TEST(LayoutConfigTest, DefaultIsTheScalablePreset) {
  const detail::scalable_heap_config c = malloc_layout(nullptr);
  EXPECT_EQ(c.classes.max_small, 32768u);
  EXPECT_EQ(c.span_bytes, 65536u);
  EXPECT_TRUE(c.fast_path);
  EXPECT_EQ(c.guarded_sample_rate, 0u);
  EXPECT_EQ(malloc_layout("").classes.max_small, 32768u);
}

TEST(LayoutConfigTest, AFileChoosesTheEngineOptions) {
  const std::string f = write_layout("small.json", R"({"name": "small", "resource":
      {"type": "scalable", "max_small": 4096, "span_bytes": 16384, "checked": false}})");
  const detail::scalable_heap_config c = malloc_layout(f.c_str());
  EXPECT_EQ(c.classes.max_small, 4096u);
  EXPECT_EQ(c.span_bytes, 16384u);
  EXPECT_TRUE(c.fast_path);  // checked off whatever the build's default
}

// Central shards left to the engine become the process's own default; a layout that names a count
// keeps it (the default depends on the CPUs, so only its range is checked).
TEST(LayoutConfigTest, ShardsLeftToTheEngineGetTheMallocDefault) {
  const std::size_t d = malloc_default_shards();
  EXPECT_GE(d, 2u);
  EXPECT_LE(d, 16u);
  EXPECT_EQ(malloc_layout(nullptr).central_shards, d);
  const std::string f = write_layout("shards.json", R"({"name": "shards", "resource":
      {"type": "scalable", "central_shards": 7}})");
  EXPECT_EQ(malloc_layout(f.c_str()).central_shards, 7u);
}

TEST(LayoutConfigTest, ErrorsNameTheFileTheFieldAndTheReason) {
  const std::string slab = write_layout("slab.json",
      R"({"name": "s", "resource": {"type": "fixed_slab", "block_size": 32}})");
  EXPECT_NE(error_of(slab).find(slab + ": resource.type: the malloc front end runs only"), std::string::npos)
      << error_of(slab);
  const std::string checked = write_layout("checked.json",
      R"({"name": "c", "resource": {"type": "scalable", "checked": true}})");
  EXPECT_NE(error_of(checked).find("resource.checked: the malloc front end has no checked mode"),
            std::string::npos);
  const std::string guarded = write_layout("guarded.json",
      R"({"name": "g", "resource": {"type": "scalable", "guarded_sample_rate": 1000}})");
  EXPECT_NE(error_of(guarded).find("resource.guarded_sample_rate: must be 0"), std::string::npos);
  const std::string typo = write_layout("typo.json",
      R"({"name": "t", "resource": {"type": "scalable", "max_smal": 4096}})");
  EXPECT_NE(error_of(typo).find("max_smal"), std::string::npos);
  const std::string missing = write_layout("missing_dir_marker", "") + ".does-not-exist.json";
  EXPECT_NE(error_of(missing).find(missing), std::string::npos);
  const std::string broken = write_layout("broken.json", "{ not json");
  EXPECT_NE(error_of(broken).find(broken), std::string::npos);
}

}  // namespace
}  // namespace allocbench::malloc_detail
