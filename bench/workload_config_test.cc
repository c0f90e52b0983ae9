// The workload parser against the shipped configs, good files and one bad file per kind of mistake.
#include "bench/workload_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>

#include "bench/workload_memory.h"
#include "pmr/config_error.h"

namespace allocbench::bench {
namespace {

const std::string kWorkloads = "configs/workloads/";
const std::string kTestdata = "testdata/workloads/";

TEST(WorkloadConfig, EveryShippedWorkloadParses) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(kWorkloads)) {
    SCOPED_TRACE(e.path().string());
    const workload_config w = load_workload(e.path());
    EXPECT_EQ(w.name, e.path().stem().string()) << "a workload's name is its file name";
    if (w.pattern == workload_pattern::trace) continue;  // a trace's threads are its own (trace_replay_test)
    EXPECT_EQ(w.threads, (std::vector<int>{1, 2, 4, 8, 16}));
    ++n;
  }
  EXPECT_EQ(n, 8);
}

// The origin report's four workloads, exactly as its harness defines them (seed-workloads notes).
struct report_workload {
  const char* name;
  std::vector<std::uint32_t> sizes;
  std::vector<double> weights;
  double allocate_probability;
  std::size_t live_cap;
  std::size_t alignment;
};

TEST(WorkloadConfig, ReportWorkloadsMatchTheReport) {
  const report_workload expected[] = {
      {"rl_small", {16, 32, 64, 128, 256, 512}, {.25, .25, .20, .15, .10, .05}, 0.65, 4096, 16},
      {"rl_medium", {128, 256, 512, 1024, 2048, 4096}, {.20, .25, .25, .15, .10, .05}, 0.60, 2048, 16},
      {"fragmentation_mix",
       {16, 32, 64, 128, 256, 512, 1024, 2048, 4096},
       {.10, .10, .10, .12, .12, .12, .12, .12, .10},
       0.55,
       8192,
       16},
      {"alignment64", {64, 128, 256, 512, 1024}, {.35, .25, .20, .15, .05}, 0.60, 2048, 64},
  };
  for (const report_workload& r : expected) {
    SCOPED_TRACE(r.name);
    const workload_config w = load_workload(kWorkloads + r.name + ".json");
    EXPECT_EQ(w.pattern, workload_pattern::live_set);
    EXPECT_EQ(w.sizes.type, size_distribution::kind::buckets);
    EXPECT_EQ(w.sizes.values, r.sizes);
    EXPECT_EQ(w.sizes.weights, r.weights);
    EXPECT_DOUBLE_EQ(w.allocate_probability, r.allocate_probability);
    EXPECT_EQ(w.live_cap, r.live_cap);
    EXPECT_EQ(w.alignment, r.alignment);
    EXPECT_EQ(w.ops_per_thread, 200000u);
    ASSERT_EQ(w.lifetimes.size(), 1u);
    EXPECT_EQ(w.lifetimes[0].kind, lifetime_kind::random);
    for (const double* weights : {w.carrier_weights, w.lifetimes[0].carrier_weights}) {
      EXPECT_EQ(weights[int(carrier::raw)], 1.0);
      for (int c = 1; c < kCarrierCount; ++c) EXPECT_EQ(weights[c], 0.0) << "carrier " << c;
    }
  }
}

TEST(WorkloadConfig, MinimalFileTakesTheDefaults) {
  const workload_config w = load_workload(kTestdata + "good_minimal.json");
  EXPECT_EQ(w.name, "minimal");
  EXPECT_EQ(w.pattern, workload_pattern::live_set);
  EXPECT_EQ(w.seed, 1u);
  EXPECT_EQ(w.threads, (std::vector<int>{1, 2, 4, 8, 16}));
  EXPECT_EQ(w.ops_per_thread, 200000u);
  EXPECT_DOUBLE_EQ(w.min_seconds, 0.5);
  EXPECT_EQ(w.alignment, 16u);
  EXPECT_DOUBLE_EQ(w.allocate_probability, 0.5);
  EXPECT_EQ(w.live_cap, 4096u);
  EXPECT_EQ(w.sizes.type, size_distribution::kind::list);
}

TEST(WorkloadConfig, FullFileKeepsEveryField) {
  const workload_config w = load_workload(kTestdata + "good_full.json");
  EXPECT_EQ(w.seed, 99u);
  EXPECT_EQ(w.threads, (std::vector<int>{1, 3}));
  EXPECT_EQ(w.ops_per_thread, 5000u);
  EXPECT_DOUBLE_EQ(w.min_seconds, 0.25);
  EXPECT_EQ(w.sizes.type, size_distribution::kind::uniform);
  EXPECT_EQ(w.sizes.values, (std::vector<std::uint32_t>{8, 300}));
  EXPECT_EQ(w.alignment, 32u);
  ASSERT_EQ(w.lifetimes.size(), 3u);
  EXPECT_EQ(w.lifetimes[1].kind, lifetime_kind::fifo);
  EXPECT_EQ(w.lifetimes[1].sizes.values, (std::vector<std::uint32_t>{64, 128}));
  EXPECT_EQ(w.lifetimes[2].kind, lifetime_kind::scoped);
  EXPECT_EQ(w.lifetimes[2].min_ops, 1u);
  EXPECT_EQ(w.lifetimes[2].max_ops, 10u);
  EXPECT_DOUBLE_EQ(w.carrier_weights[int(carrier::map)], 0.2);
  EXPECT_DOUBLE_EQ(w.tensor_resize_probability, 0.1);
  EXPECT_EQ(w.raw["name"], "full");
}

TEST(WorkloadConfig, RequestsFile) {
  const workload_config w = load_workload(kTestdata + "good_requests.json");
  EXPECT_EQ(w.pattern, workload_pattern::requests);
  EXPECT_EQ(w.requests_in_flight, 2u);
  EXPECT_EQ(w.min_tokens, 3u);
  EXPECT_EQ(w.max_tokens, 7u);
  EXPECT_EQ(w.token_floats, 64u);
}

// The tensor_buffer carrier, at workload level and per lifetime class (which replaces the default).
TEST(WorkloadConfig, TensorBufferCarrier) {
  const nlohmann::json doc = nlohmann::json::parse(R"({
    "name": "buffers", "sizes": {"list": [256]},
    "lifetimes": [{"kind": "random", "weight": 1, "containers": {"tensor_buffer": 3, "map": 1}},
                  {"kind": "fifo", "weight": 1}],
    "containers": {"raw": 1, "tensor_buffer": 1}})");
  const workload_config w = parse_workload(doc, "inline.json");
  EXPECT_DOUBLE_EQ(w.carrier_weights[int(carrier::tensor_buffer)], 1.0);
  EXPECT_DOUBLE_EQ(w.carrier_weights[int(carrier::raw)], 1.0);
  ASSERT_EQ(w.lifetimes.size(), 2u);
  EXPECT_DOUBLE_EQ(w.lifetimes[0].carrier_weights[int(carrier::tensor_buffer)], 3.0);
  EXPECT_DOUBLE_EQ(w.lifetimes[0].carrier_weights[int(carrier::map)], 1.0);
  EXPECT_DOUBLE_EQ(w.lifetimes[0].carrier_weights[int(carrier::raw)], 0.0) << "an override replaces";
  EXPECT_DOUBLE_EQ(w.lifetimes[1].carrier_weights[int(carrier::tensor_buffer)], 1.0) << "the default";
  EXPECT_DOUBLE_EQ(w.lifetimes[1].carrier_weights[int(carrier::raw)], 1.0);
}

TEST(WorkloadConfig, ShippedContainerWorkloadsUseTensorBuffers) {
  const workload_config replay = load_workload(kWorkloads + "replay_buffer.json");
  ASSERT_EQ(replay.lifetimes[0].kind, lifetime_kind::random);  // the long-lived samples
  EXPECT_GT(replay.lifetimes[0].carrier_weights[int(carrier::tensor_buffer)], 0.0);
}

struct inline_bad_case {
  const char* json;
  const char* field;
  const char* reason;
};

class BadContainers : public ::testing::TestWithParam<inline_bad_case> {};

TEST_P(BadContainers, NameFileFieldAndReason) {
  const inline_bad_case& c = GetParam();
  try {
    parse_workload(nlohmann::json::parse(c.json), "inline.json");
    FAIL() << c.json << " was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "inline.json");
    EXPECT_EQ(e.field(), c.field);
    EXPECT_NE(e.reason().find(c.reason), std::string::npos) << "reason: " << e.reason();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Inline, BadContainers,
    ::testing::Values(
        inline_bad_case{R"({"name": "x", "sizes": {"list": [8]}, "containers": {"tensor_buffer": -1}})",
                        "containers.tensor_buffer", "must be a non-negative number"},
        inline_bad_case{R"({"name": "x", "sizes": {"list": [8]}, "containers": {"tensor_bufer": 1}})",
                        "containers.tensor_bufer", "unknown field"},
        inline_bad_case{R"({"name": "x", "sizes": {"list": [8]},
                            "lifetimes": [{"kind": "fifo", "weight": 1, "containers": {"tensor_buffer": 0}}]})",
                        "lifetimes[0].containers", "at least one carrier"},
        inline_bad_case{R"({"name": "x", "sizes": {"list": [8]},
                            "lifetimes": [{"kind": "fifo", "weight": 1, "containers": {"tensor_buffer": "1"}}]})",
                        "lifetimes[0].containers.tensor_buffer", "must be a number"}));

struct bad_case {
  const char* file;
  const char* field;
  const char* reason;  // a substring of the reason
};

class BadWorkload : public ::testing::TestWithParam<bad_case> {};

// bad_deep_nesting.json's "description" is 500 arrays deep; the error names the first one below the
// 128-level limit: the document is level 1, "description" level 2.
std::string repeated(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}
const std::string kDeepField = "description" + repeated("[0]", 127);

TEST_P(BadWorkload, NamesFileFieldAndReason) {
  const bad_case& c = GetParam();
  const std::string path = kTestdata + c.file;
  try {
    load_workload(path);
    FAIL() << path << " was accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.field(), c.field);
    EXPECT_NE(e.reason().find(c.reason), std::string::npos) << "reason: " << e.reason();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Files, BadWorkload,
    ::testing::Values(bad_case{"bad_missing_sizes.json", "sizes", "required field is missing"},
                      bad_case{"bad_unknown_field.json", "live_capp", "unknown field"},
                      bad_case{"bad_weights_length.json", "sizes.weights", "one weight per bucket"},
                      bad_case{"bad_weight_negative.json", "sizes.weights[1]", "must be a positive number"},
                      bad_case{"bad_alignment.json", "alignment", "power of two"},
                      bad_case{"bad_probability.json", "allocate_probability", "must be in (0, 1]"},
                      bad_case{"bad_lifetime_kind.json", "lifetimes[1].kind", "must be one of random, fifo, scoped"},
                      bad_case{"bad_scoped_ops.json", "lifetimes[0].ops", "lo must not exceed hi"},
                      bad_case{"bad_threads.json", "threads", "each thread count must be 1..256"},
                      bad_case{"bad_pattern.json", "pattern", "must be one of live_set, ring_handoff, requests"},
                      bad_case{"bad_ring_section.json", "ring", "only goes with"},
                      bad_case{"bad_ring_batch.json", "ring.batch", "must be at most queue_capacity (32), got 64"},
                      bad_case{"bad_requests_tokens.json", "requests.tokens", "must lie within"},
                      bad_case{"bad_syntax.json", "", "invalid JSON"},
                      bad_case{"bad_size_zero.json", "sizes.list[0]", "a size must be"},
                      bad_case{"bad_containers.json", "containers", "at least one carrier"},
                      // Issue 15, defect 4: hostile files.
                      bad_case{"bad_token_floats_wrap.json", "requests.token_floats",
                               "must be 1..1048576, got 4294967360"},
                      bad_case{"bad_token_product.json", "requests.token_floats",
                               "= 68719476736 floats per request, above 4294967295"},
                      bad_case{"bad_budget_trace.json", "ops_per_thread", "above the memory budget of 8.00 GiB"},
                      bad_case{"bad_budget_live.json", "live_cap", "above the memory budget of 8.00 GiB"},
                      bad_case{"bad_budget_ring.json", "ring.queue_capacity", "above the memory budget"},
                      bad_case{"bad_budget_requests.json", "requests.token_floats", "above the memory budget"},
                      bad_case{"bad_deep_nesting.json", kDeepField.c_str(), "nest deeper than 128 levels"}),
    [](const ::testing::TestParamInfo<bad_case>& info) {
      std::string n = info.param.file;
      n = n.substr(0, n.find('.'));
      return n;
    });

TEST(WorkloadConfig, MissingFileNamesTheFile) {
  try {
    load_workload(kTestdata + "no_such_file.json");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), kTestdata + "no_such_file.json");
    EXPECT_EQ(e.field(), "");
  }
}

// Issue 15, defect 4: a document nested 20,000 levels deep is rejected by the depth limit, without a
// walk that recurses as deep (which would overflow the stack under the sanitizers).
TEST(WorkloadConfig, DeepNestingIsRejectedWithoutRecursing) {
  for (const char* open_close : {"[]", "{}"}) {
    std::string deep;
    for (int i = 0; i < 20000; ++i) deep += open_close[0] == '[' ? "[" : "{\"a\": ";
    deep += "1";
    for (int i = 0; i < 20000; ++i) deep += open_close[1];
    const nlohmann::json doc = nlohmann::json::parse(R"({"name": "x", "sizes": {"list": [64]}, "seed": )" + deep + "}");
    try {
      (void)parse_workload(doc, "inline");
      FAIL() << "accepted";
    } catch (const config_error& e) {
      EXPECT_EQ(e.file(), "inline");
      EXPECT_EQ(e.field().rfind("seed", 0), 0u) << e.field();
      EXPECT_NE(e.reason().find("nest deeper than 128 levels"), std::string::npos) << e.reason();
    }
  }
}

TEST(WorkloadConfig, NestingUpToTheLimitIsNotRejectedForDepth) {
  // 127 levels inside the document's own: within the limit, so the field's own check speaks.
  const nlohmann::json doc = nlohmann::json::parse(R"({"name": "x", "sizes": {"list": [64]}, "seed": )" +
                                                   repeated("[", 127) + repeated("]", 127) + "}");
  try {
    (void)parse_workload(doc, "inline");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "seed");
    EXPECT_NE(e.reason().find("must be a non-negative integer, got array [[[["), std::string::npos) << e.reason();
  }
}

// The budget is the caller's: a workload that needs 64 GiB (16 threads x 4096 live blocks of 1 MiB)
// fails the default and passes a larger one.
TEST(WorkloadConfig, MemoryBudgetIsCheckedAndOverridable) {
  const nlohmann::json doc = nlohmann::json::parse(
      R"({"name": "x", "sizes": {"list": [1048576]}, "threads": [16], "live_cap": 4096})");
  try {
    (void)parse_workload(doc, "inline");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "live_cap");
    EXPECT_NE(e.reason().find("at 16 threads"), std::string::npos) << e.reason();
  }
  const workload_config w = parse_workload(doc, "inline", std::uint64_t{128} << 30);
  const memory_estimate e = estimate_memory(w);
  EXPECT_GE(e.blocks, std::uint64_t{64} << 30);
  EXPECT_LT(e.total, std::uint64_t{128} << 30);
  // The estimate itself is the boundary.
  EXPECT_THROW(check_memory_budget(w, e.total - 1), config_error);
  EXPECT_NO_THROW(check_memory_budget(w, e.total));
}

// Products of limits saturate rather than wrap: the largest values every field allows at once read as
// more than any budget.
TEST(WorkloadConfig, EstimateSaturatesInsteadOfWrapping) {
  workload_config w;
  w.threads = {256};
  w.pattern = workload_pattern::requests;
  w.ops_per_thread = std::size_t{1} << 31;
  w.requests_in_flight = std::numeric_limits<std::size_t>::max();
  w.max_tokens = std::numeric_limits<std::uint32_t>::max();
  w.token_floats = std::numeric_limits<std::uint32_t>::max();
  w.sizes.values = {std::numeric_limits<std::uint32_t>::max()};
  EXPECT_EQ(estimate_memory(w).total, std::numeric_limits<std::uint64_t>::max());
  EXPECT_THROW(check_memory_budget(w, std::numeric_limits<std::uint64_t>::max() - 1), config_error);
}

// Every shipped workload fits the default budget at its thread counts (they parse, above), with room.
TEST(WorkloadConfig, ShippedWorkloadsFitTheDefaultBudgetWithRoom) {
  for (const auto& f : std::filesystem::directory_iterator(kWorkloads)) {
    SCOPED_TRACE(f.path().string());
    const memory_estimate e = estimate_memory(load_workload(f.path()));
    EXPECT_LT(e.total, kDefaultMemoryBudget / 4) << "traces " << e.traces << ", slots " << e.bookkeeping
                                                 << ", blocks " << e.blocks;
    std::printf("%s: %.3f GiB\n", f.path().filename().c_str(), double(e.total) / double(1 << 30));
  }
}

// Issue 15, defect 6: integers written in C++ are signed JSON integers, and valid where not negative.
TEST(WorkloadConfig, SignedIntegersFromCodeAreAccepted) {
  const nlohmann::json doc = {{"name", "x"},
                              {"pattern", "requests"},
                              {"seed", 7},
                              {"threads", {1, 2}},
                              {"ops_per_thread", 1000},
                              {"sizes", {{"list", {64, 128}}}},
                              {"requests", {{"in_flight", 2}, {"tokens", {3, 9}}, {"token_floats", 16}}}};
  const workload_config w = parse_workload(doc, "inline");
  EXPECT_EQ(w.seed, 7u);
  EXPECT_EQ(w.threads, (std::vector<int>{1, 2}));
  EXPECT_EQ(w.token_floats, 16u);
  EXPECT_EQ(w.max_tokens, 9u);
  nlohmann::json negative = doc;
  negative["requests"]["token_floats"] = -16;
  try {
    (void)parse_workload(negative, "inline");
    FAIL() << "accepted";
  } catch (const config_error& e) {
    EXPECT_EQ(e.field(), "requests.token_floats");
    EXPECT_EQ(e.reason(), "must not be negative, got -16");
  }
}

}  // namespace
}  // namespace allocbench::bench
