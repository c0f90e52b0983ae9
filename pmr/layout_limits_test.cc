// Hostile and code-built layouts (issue 15, defects 4 and 6): routing nodes nest at most
// kMaxRoutingDepth levels, any JSON at most kMaxJsonDepth, and integers written in C++ (signed JSON
// integers) are valid sizes.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "pmr/config_error.h"
#include "pmr/json_fields.h"
#include "pmr/layout_builders.h"
#include "pmr/presets.h"
#include "pmr/scalable_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using json = nlohmann::json;
using testing::test_upstream;

// `levels` routing nodes, each the only route's child of the one above, around a slab; as text, so
// that building it in memory does not recurse.
std::string nested_routing(std::size_t levels) {
  std::string open, close;
  for (std::size_t i = 0; i < levels; ++i) {
    open += R"({"type": "routing", "fallback": "upstream", "routes": [{"max_size": 64, "resource": )";
    close += "}]}";
  }
  return R"({"name": "deep", "resource": )" + open + R"({"type": "fixed_slab", "block_size": 64})" + close + "}";
}

std::string routing_field_path(std::size_t levels) {
  std::string path = "resource";
  for (std::size_t i = 0; i < levels; ++i) path += ".routes[0].resource";
  return path;
}

TEST(LayoutLimits, RoutingNestsUpToTheLimit) {
  test_upstream up;
  {
    auto r = build_resource(json::parse(nested_routing(detail::kMaxRoutingDepth)), "inline", &up);
    void* p = r->allocate(64, 8);
    r->deallocate(p, 64, 8);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(LayoutLimits, RoutingDeeperThanTheLimitNamesTheNode) {
  test_upstream up;
  try {
    (void)build_resource(json::parse(nested_routing(detail::kMaxRoutingDepth + 1)), "inline", &up);
    FAIL() << "built";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "inline");
    EXPECT_EQ(e.field(), routing_field_path(detail::kMaxRoutingDepth) + ".type");
    EXPECT_EQ(e.reason(), "routing nodes nest deeper than 32 levels (the limit for a layout)");
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);  // the 32 levels built before the error are gone
}

// The issue's reproduction: 20,000 levels overflowed the stack, 5,000 took 615 MiB and 1.8 s. Both
// are now rejected by the JSON depth limit before any node is built.
TEST(LayoutLimits, TwentyThousandRoutingLevelsAreRejectedBeforeBuilding) {
  for (std::size_t levels : {std::size_t(5000), std::size_t(20000)}) {
    test_upstream up;
    try {
      (void)build_resource(json::parse(nested_routing(levels)), "inline", &up);
      FAIL() << "built";
    } catch (const config_error& e) {
      EXPECT_EQ(e.file(), "inline");
      EXPECT_EQ(e.field().rfind("resource.routes[0].resource.routes[0]", 0), 0u) << e.field();
      EXPECT_NE(e.reason().find("nest deeper than 128 levels"), std::string::npos) << e.reason();
    }
    EXPECT_EQ(up.allocate_calls(), 0u) << "nothing is built before the depth check";
  }
}

TEST(LayoutLimits, DeepArrayInAnyFieldIsRejected) {
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  for (const std::string& text :
       {R"({"name": "x", "description": )" + deep + R"(, "resource": {"type": "best_fit"}})",
        R"({"name": "x", "resource": {"type": "best_fit", "region_bytes": )" + deep + "}}",
        R"({"name": "x", "resource": {"type": "routing", "routes": )" + deep + R"(, "fallback": "upstream"}})"}) {
    EXPECT_THROW((void)build_resource(json::parse(text), "inline", std::pmr::new_delete_resource()),
                 config_error);
  }
  // Within the depth limit, the field's own message renders the value, capped.
  try {
    (void)build_resource(json::parse(R"({"name": "x", "resource": {"type": "best_fit", "region_bytes": )" +
                                     std::string(100, '[') + std::string(100, ']') + "}}"),
                         "inline", std::pmr::new_delete_resource());
    FAIL() << "built";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "resource.region_bytes");
    EXPECT_EQ(e.reason(), "must be a non-negative integer, got array " + std::string(57, '[') + "...");
  }
}

// Issue 15, defect 6, exactly as reported, and every other unsigned field of a layout built in code.
TEST(LayoutLimits, LayoutsBuiltInCodeTakeSignedIntegers) {
  const json scalable = {{"name", "x"}, {"resource", {{"type", "scalable"}, {"span_bytes", 4096}}}};
  auto r = build_resource(scalable, "inline", std::pmr::new_delete_resource());
  void* p = r->allocate(64, 16);
  r->deallocate(p, 64, 16);
  EXPECT_EQ(dynamic_cast<scalable_resource&>(*r).span_bytes_for(64), 4096u);

  const json routing = {
      {"name", "x"},
      {"resource",
       {{"type", "routing"},
        {"routes",
         {{{"max_size", 64}, {"max_alignment", 8}, {"resource", {{"type", "fixed_slab"}, {"block_size", 64},
                                                               {"chunk_bytes", 65536}, {"thread_cache", 16}}}},
          {{"max_size", 1024}, {"resource", {{"type", "segregated"}, {"classes", {128, 512, 1024}},
                                             {"chunk_bytes", 65536}}}},
          {{"max_size", 4096}, {"resource", {{"type", "scalable"}, {"classes", {2048, 4096}},
                                             {"central_shards", 2}, {"max_batch", 8}}}}}},
        {"fallback", {{"type", "best_fit"}, {"region_bytes", 1 << 20}, {"direct_threshold", 1 << 18}}}}}};
  test_upstream up;
  {
    auto router = build_resource(routing, "inline", &up);
    for (std::size_t bytes : {std::size_t(64), std::size_t(1000), std::size_t(4000), std::size_t(100000)}) {
      void* q = router->allocate(bytes, 8);
      router->deallocate(q, bytes, 8);
    }
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);

  const json negative = {{"name", "x"}, {"resource", {{"type", "scalable"}, {"span_bytes", -4096}}}};
  try {
    (void)build_resource(negative, "inline", std::pmr::new_delete_resource());
    FAIL() << "built";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "resource.span_bytes");
    EXPECT_EQ(e.reason(), "must not be negative, got -4096");
  }
  const json fraction = {{"name", "x"}, {"resource", {{"type", "scalable"}, {"span_bytes", 4096.5}}}};
  EXPECT_THROW((void)build_resource(fraction, "inline", std::pmr::new_delete_resource()), config_error);
}

}  // namespace
}  // namespace allocbench
