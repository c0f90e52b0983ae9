// The config field reader: integers of either JSON signedness (issue 15, defect 6), error messages
// that render values with a size cap, and the nesting limit (defect 4).
#include "pmr/json_fields.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include "pmr/config_error.h"

namespace allocbench {
namespace {

using json = nlohmann::json;

std::string repeated(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// `levels` arrays inside each other around a 1, parsed (the parser does not recurse).
json nested_arrays(std::size_t levels) { return json::parse(repeated("[", levels) + "1" + repeated("]", levels)); }

// The reason of the config_error that `f` throws.
template <class F>
std::string reason_of(F&& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.reason();
  }
  return "(no config_error)";
}

TEST(JsonFields, SignedAndUnsignedNonNegativeIntegersAreSizes) {
  const json doc = {{"signed", 4096}, {"unsigned", 4096u}, {"zero", 0}, {"list", {64, 128u, 0}}};
  ASSERT_TRUE(doc["signed"].is_number_integer() && !doc["signed"].is_number_unsigned());
  const json_fields f(doc, "inline");
  EXPECT_EQ(f.size("signed"), 4096u);
  EXPECT_EQ(f.size("unsigned"), 4096u);
  EXPECT_EQ(f.size("zero"), 0u);
  EXPECT_EQ(f.size_or("signed", 1), 4096u);
  EXPECT_EQ(f.size_list("list"), (std::vector<std::size_t>{64, 128, 0}));
  const json largest = {{"n", std::numeric_limits<std::int64_t>::max()}};
  EXPECT_EQ(json_fields(largest, "inline").size("n"), std::size_t(std::numeric_limits<std::int64_t>::max()));
}

TEST(JsonFields, NegativeFractionalAndHugeNumbersKeepTheirErrors) {
  const json doc = json::parse(R"({"negative": -1, "fraction": 1.5, "huge": 18446744073709551616,
                                   "huger": 1e300, "list": [1, -7], "string": "12"})");
  const json_fields f(doc, "inline");
  EXPECT_EQ(reason_of([&] { (void)f.size("negative"); }), "must not be negative, got -1");
  EXPECT_EQ(reason_of([&] { (void)f.size("fraction"); }), "must be a non-negative integer, got number 1.5");
  EXPECT_EQ(reason_of([&] { (void)f.size("huge"); }).rfind("must be at most 18446744073709551615, got", 0), 0u);
  EXPECT_EQ(reason_of([&] { (void)f.size("huger"); }).rfind("must be at most 18446744073709551615, got", 0), 0u);
  EXPECT_EQ(reason_of([&] { (void)f.size_list("list"); }), "must not be negative, got -7");
  EXPECT_EQ(reason_of([&] { (void)f.size("string"); }), "must be a non-negative integer, got string \"12\"");
  const json in_code = {{"n", -4096}};
  EXPECT_EQ(reason_of([&] { (void)json_fields(in_code, "inline").size("n"); }), "must not be negative, got -4096");
}

TEST(JsonFields, DescribeShowsAtMostSixtyCharacters) {
  EXPECT_EQ(json_fields::describe(json(5)), "number 5");
  EXPECT_EQ(json_fields::describe(json::parse(R"([1, {"a": "b"}])")), R"(array [1,{"a":"b"}])");
  EXPECT_EQ(json_fields::describe(json::object()), "object {}");
  const std::string long_text = json_fields::describe(json(std::string(10000, 'x')));
  EXPECT_EQ(long_text, "string \"" + std::string(56, 'x') + "...");
  json wide = json::array();
  for (int i = 0; i < 100000; ++i) wide.push_back(i);
  const std::string shown = json_fields::describe(wide);
  EXPECT_EQ(shown.size(), std::string("array ").size() + json_fields::kDescribeChars);
  EXPECT_EQ(shown.substr(shown.size() - 3), "...");
  // Invalid UTF-8 in a value must not make the message itself throw.
  EXPECT_NO_THROW((void)json_fields::describe(json(std::string("\xff\xfe"))));
}

// A value far deeper than any stack allows recursing: the old describe serialised the whole value
// (recursively) to show 60 characters of it, and overflowed the stack.
TEST(JsonFields, DescribeOfAVeryDeepValueDoesNotRecurse) {
  json deep = nested_arrays(200000);
  EXPECT_EQ(json_fields::describe(deep), "array " + repeated("[", 57) + "...");
  // The same through the constructor's message and a field reader's (moved, not copied: copying a
  // json recurses).
  EXPECT_EQ(reason_of([&] { (void)json_fields(deep, "inline"); }),
            "must be a JSON object, got array " + repeated("[", 57) + "...");
  json holder = json::object();
  holder["n"] = std::move(deep);
  EXPECT_EQ(reason_of([&] { (void)json_fields(holder, "inline").size("n"); }),
            "must be a non-negative integer, got array " + repeated("[", 57) + "...");
}

TEST(JsonFields, DepthLimitNamesThePathOfTheFirstTooDeepValue) {
  EXPECT_NO_THROW(check_json_depth(nested_arrays(kMaxJsonDepth), "inline"));
  EXPECT_NO_THROW(check_json_depth(json(1), "inline"));
  try {
    check_json_depth(nested_arrays(kMaxJsonDepth + 1), "inline");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "inline");
    EXPECT_EQ(e.field(), repeated("[0]", kMaxJsonDepth));
    EXPECT_EQ(e.reason(), "arrays and objects nest deeper than 128 levels (the limit for a config)");
  }
  // Objects and arrays mixed, below siblings that are fine.
  const json doc = json::parse(R"({"ok": [[1]], "x": [0, {"k": )" + repeated("[", 200) + repeated("]", 200) + "}]}");
  try {
    check_json_depth(doc, "f.json", 8);
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "f.json");
    EXPECT_EQ(e.field(), "x[1].k" + repeated("[0]", 5));  // "k" is level 4
  }
}

// 20,000 levels: rejected by a walk with a heap stack, however deep.
TEST(JsonFields, DepthLimitRejectsTwentyThousandLevels) {
  for (std::size_t levels : {std::size_t(20000), std::size_t(200000)}) {
    const json deep = nested_arrays(levels);
    EXPECT_THROW(check_json_depth(deep, "inline"), config_error) << levels;
    json objects = json::parse(repeated("{\"a\": ", levels) + "1" + repeated("}", levels));
    EXPECT_THROW(check_json_depth(objects, "inline"), config_error) << levels;
  }
}

}  // namespace
}  // namespace allocbench
