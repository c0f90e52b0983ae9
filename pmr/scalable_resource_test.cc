// scalable_resource, one thread: the pmr contract, size classes and overhead, checked mode, the
// layout node, a randomised model test and an upstream that fails. Threads: scalable_threads_test.cc.
#include "pmr/scalable_resource.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <stdexcept>
#include <vector>

#include "pmr/allocation_scope.h"
#include "pmr/config_error.h"
#include "pmr/presets.h"
#include "pmr/testing/contract_checks.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/model_checker.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::test_upstream;

scalable_options unchecked() {
  scalable_options o;
  o.checked = false;
  return o;
}

bool aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

TEST(ScalableResource, KindAndIdentity) {
  test_upstream up;
  scalable_resource a(unchecked(), &up), b(unchecked(), &up);
  EXPECT_EQ(a.kind(), "scalable");
  EXPECT_TRUE(a.is_equal(a));
  EXPECT_FALSE(a.is_equal(b));
}

TEST(ScalableResource, BadAlignmentThrowsInvalidArgumentAndChangesNothing) {
  for (bool checked : {false, true}) {
    test_upstream up;
    scalable_options o;
    o.checked = checked;
    scalable_resource r(o, &up);
    testing::expect_bad_alignments_rejected(r, up, {64, 100000}, {0, 3, 12, 48, 4097});
  }
}

TEST(ScalableResource, ImpossibleSizesThrowBadAllocAndChangeNothing) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  void* keep = r.allocate(64, 16);
  const resource_stats before = r.stats();
  const std::size_t calls = up.allocate_calls();
  for (std::size_t bytes : {static_cast<std::size_t>(-1), static_cast<std::size_t>(-1) - 8,
                            static_cast<std::size_t>(-1) - 4096}) {
    for (std::size_t alignment : {1, 16, 4096, 8192}) {
      EXPECT_THROW((void)r.allocate(bytes, alignment), std::bad_alloc);
    }
  }
  const resource_stats after = r.stats();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.bytes_held, before.bytes_held);
  EXPECT_EQ(up.allocate_calls(), calls);
  r.deallocate(keep, 64, 16);
}

TEST(ScalableResource, ZeroBytesGivesDistinctValidBlocks) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  void* a = r.allocate(0, 1);
  void* b = r.allocate(0, 1);
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(r.usable_size(0, 1), 16u);
  r.deallocate(a, 0, 1);
  r.deallocate(b, 0, 1);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

TEST(ScalableResource, AlignmentsUpTo4096FromClassesAndBeyondFromUpstream) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  struct block { void* p; std::size_t bytes, alignment; };
  std::vector<block> blocks;
  for (std::size_t alignment = 1; alignment <= 65536; alignment *= 2) {
    for (std::size_t bytes : {1, 24, 64, 100, 1000, 5000, 40000}) {
      void* p = r.allocate(bytes, alignment);
      EXPECT_TRUE(aligned(p, alignment)) << bytes << " @ " << alignment;
      std::memset(p, 0xab, bytes);
      blocks.push_back({p, bytes, alignment});
    }
  }
  EXPECT_EQ(r.usable_size(16, 4096), 4096u);  // a class serves it
  EXPECT_EQ(r.usable_size(16, 8192), 0u);     // upstream serves it
  for (const block& b : blocks) r.deallocate(b.p, b.bytes, b.alignment);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

TEST(ScalableResource, LargeBlocksGoStraightToUpstreamAndBack) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  EXPECT_EQ(r.max_size(), 32768u);
  const std::size_t calls = up.allocate_calls();
  void* p = r.allocate(1 << 20, 64);
  EXPECT_EQ(up.allocate_calls(), calls + 1);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.classes.back().name, "large");
  EXPECT_EQ(s.classes.back().live_blocks, 1u);
  EXPECT_EQ(s.live_usable_bytes, std::size_t(1) << 20);
  const std::size_t blocks = up.outstanding_blocks();
  r.deallocate(p, 1 << 20, 64);
  EXPECT_EQ(up.outstanding_blocks(), blocks - 1);
  EXPECT_EQ(r.stats().classes.back().bytes_held, 0u);
}

TEST(ScalableResource, ReleaseAndDestructorReturnEverything) {
  test_upstream up;
  {
    scalable_resource r(unchecked(), &up);
    for (int i = 0; i < 1000; ++i) (void)r.allocate(std::size_t(i % 700) * 61 + 1, 16);
    EXPECT_GT(up.outstanding_blocks(), 0u);
    r.release();
    EXPECT_EQ(up.outstanding_blocks(), 0u);
    const resource_stats s = r.stats();
    EXPECT_EQ(s.live_blocks, 0u);
    EXPECT_EQ(s.live_requested_bytes, 0u);
    EXPECT_EQ(s.bytes_held, 0u);
    EXPECT_EQ(s.allocations, 1000u);
    // Usable again afterwards, with correct counts.
    void* p = r.allocate(64, 16);
    std::memset(p, 1, 64);
    EXPECT_EQ(r.stats().live_blocks, 1u);
    for (int i = 0; i < 100; ++i) (void)r.allocate(3000, 8);
    (void)r.allocate(1 << 20, 16);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);  // the destructor returned the rest
}

TEST(ScalableResource, StatsCountRequestedAndUsableBytes) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  void* a = r.allocate(100, 8);  // class 112
  void* b = r.allocate(20, 16);  // class 32
  resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.live_requested_bytes, 120u);
  EXPECT_EQ(s.live_usable_bytes, 144u);
  EXPECT_EQ(s.classes.size(), r.class_sizes().size() + 1);
  EXPECT_GT(s.bytes_held, 0u);
  r.deallocate(a, 100, 8);
  r.deallocate(b, 20, 16);
  s = r.stats();
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.total_usable_bytes, 144u);
  EXPECT_GE(s.peak_live_bytes, 144u);
}

// The rl_small workload's sizes and weights, alignment 16.
TEST(ScalableResource, OverheadOnRlSmallSizes) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  const std::size_t sizes[] = {16, 32, 64, 128, 256, 512};
  std::discrete_distribution<int> pick({.25, .25, .20, .15, .10, .05});
  std::mt19937_64 rng(7);
  std::vector<std::pair<void*, std::size_t>> live;
  for (int i = 0; i < 20000; ++i) {
    const std::size_t bytes = sizes[pick(rng)];
    live.push_back({r.allocate(bytes, 16), bytes});
  }
  const double ratio = r.stats().overhead_ratio();
  std::printf("rl_small overhead ratio: %.4f\n", ratio);
  EXPECT_LE(ratio, 1.10);
  for (auto& [p, n] : live) r.deallocate(p, n, 16);
}

// Sizes 64..1024 (every byte count, the harder reading of the workload), all 64-byte aligned.
TEST(ScalableResource, OverheadOnAlignment64Sizes) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::size_t> size(64, 1024);
  std::vector<std::pair<void*, std::size_t>> live;
  for (int i = 0; i < 20000; ++i) {
    const std::size_t bytes = size(rng);
    void* p = r.allocate(bytes, 64);
    ASSERT_TRUE(aligned(p, 64));
    live.push_back({p, bytes});
  }
  const double ratio = r.stats().overhead_ratio();
  std::printf("alignment64 overhead ratio (uniform 64..1024): %.4f\n", ratio);
  EXPECT_LE(ratio, 1.15);
  for (auto& [p, n] : live) r.deallocate(p, n, 64);
  // Multiples of 64 only: the classes that are multiples of 64 fit them with little or no waste.
  for (std::size_t bytes = 64; bytes <= 1024; bytes += 64) {
    EXPECT_LE(double(r.usable_size(bytes, 64)) / double(bytes), 1.12) << bytes;
  }
}

TEST(ScalableResource, ModelCheckUnchecked) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  testing::model_checker m(r, [&] { return r.stats(); });
  testing::model_options o;
  o.operations = 10000;
  // Small classes and the large path (kept few: the checker writes and reads every byte).
  o.sizes = {0, 1, 8, 17, 24, 64, 100, 200, 256, 500, 1000, 3000, 5000, 12000, 33000};
  o.alignments = {1, 2, 4, 8, 16, 32, 64, 128, 256, 4096, 8192};
  m.run(o);
  m.free_all();
  m.check_stats();
}

TEST(ScalableResource, ModelCheckCheckedSmallSizes) {
  test_upstream up;
  scalable_options opts;
  opts.checked = true;
  opts.max_batch = 4;  // tiny batches: many refills and flushes
  opts.batch_bytes = 64;
  scalable_resource r(opts, &up);
  testing::model_checker m(r, [&] { return r.stats(); });
  testing::model_options o;
  o.operations = 10000;
  o.max_size = 600;
  o.seed = 3;
  m.run(o);
}

// An upstream that throws at every Nth call: each failure leaves the resource usable, blocks intact,
// and nothing leaks (test_upstream checks at its destruction).
TEST(ScalableResource, UpstreamFailingEveryNthCall) {
  for (std::size_t n : {1, 2, 3, 5, 8}) {
    test_upstream up;
    {
      scalable_options opts = unchecked();
      opts.span_bytes = 4096;  // many spans: many upstream calls
      scalable_resource r(opts, &up);
      std::mt19937_64 rng(n);
      struct block { unsigned char* p; std::size_t bytes; unsigned char tag; };
      std::vector<block> live;
      std::size_t failures = 0, armed = 0;
      for (int i = 0; i < 3000; ++i) {
        if (up.failures() == armed) {  // the last armed failure has fired (or none was armed yet)
          up.fail_at(n);
          ++armed;
        }
        if (live.empty() || rng() % 3 != 0) {
          const std::size_t bytes = rng() % 6 == 0 ? 33000 + rng() % 1000 : rng() % 3000;
          try {
            auto* p = static_cast<unsigned char*>(r.allocate(bytes, 16));
            const auto tag = static_cast<unsigned char>(i);
            std::memset(p, tag, bytes);
            live.push_back({p, bytes, tag});
          } catch (const std::bad_alloc&) {
            ++failures;
          }
        } else {
          const std::size_t k = rng() % live.size();
          bool intact = true;
          for (std::size_t j = 0; j < live[k].bytes; ++j) intact &= live[k].p[j] == live[k].tag;
          ASSERT_TRUE(intact) << "block of " << live[k].bytes << " bytes overwritten";
          r.deallocate(live[k].p, live[k].bytes, 16);
          live[k] = live.back();
          live.pop_back();
        }
      }
      EXPECT_GT(failures, 0u) << n;
      const resource_stats s = r.stats();
      EXPECT_EQ(s.live_blocks, live.size());
      for (const block& b : live) r.deallocate(b.p, b.bytes, 16);
      up.fail_at(0);
      r.release_unused();
    }
    EXPECT_EQ(up.outstanding_blocks(), 0u) << n;
  }
}

// Checked mode: the handler sees the bad free and the resource ignores it.
TEST(ScalableResource, CheckedModeReportsDoubleFreeAndForeignPointers) {
  test_upstream up;
  scalable_options o;
  o.checked = true;
  scalable_resource r(o, &up);
  scalable_resource other(o, &up);
  EXPECT_TRUE(r.checked());
  testing::expect_double_free_reported(r, 64, 16, "scalable");
  testing::expect_foreign_frees_reported(r, other, 64, 16);
  testing::expect_wrong_size_frees_reported(r, 100, 16, {{200, 16}, {100, 4096}});
  testing::expect_double_free_reported(r, 100000, 16, "scalable");  // a large block
}

TEST(ScalableResource, CheckedModeCatchesEveryFaultClass) {
  test_upstream up;
  scalable_options o;
  o.checked = true;
  scalable_resource r(o, &up);
  {
    SCOPED_TRACE("small block");
    testing::expect_every_fault_class_caught(r, 64, 16, "scalable");  // served from the class for 72
  }
  {
    SCOPED_TRACE("large block");
    testing::expect_every_fault_class_caught(r, 100000, 16, "scalable");
  }
}

TEST(ScalableResource, CheckedModeRegistryOutOfMemoryChangesNothing) {
  testing::expect_registry_out_of_memory_changes_nothing(
      [](test_upstream& up) {
        scalable_options o;
        o.checked = true;
        return std::make_unique<scalable_resource>(o, &up);
      },
      64, 16);
}

// Without flush_quarantine: a block leaves quarantine when enough later frees land in its shard (its
// span's), and its fill is checked then, before the heap can hand it out again.
TEST(ScalableResource, CheckedModeCatchesAWriteAfterFreeWhenTheBlockIsReused) {
  testing::invalid_free_recorder recorder;
  test_upstream up;
  scalable_options o;
  o.checked = true;
  scalable_resource r(o, &up);
  std::vector<void*> blocks;
  for (int i = 0; i < 200; ++i) blocks.push_back(r.allocate(64, 16));
  static_cast<unsigned char*>(blocks[0])[10] = 0x11;  // not yet freed: allowed
  r.deallocate(blocks[0], 64, 16);
  static_cast<unsigned char*>(blocks[0])[10] = 0x22;  // freed: a write after free
  EXPECT_TRUE(recorder.reports().empty());
  for (std::size_t i = 1; i < blocks.size(); ++i) r.deallocate(blocks[i], 64, 16);
  ASSERT_EQ(recorder.reports().size(), 1u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::write_after_free);
  EXPECT_EQ(recorder.reports()[0].pointer, blocks[0]);
  EXPECT_EQ(recorder.reports()[0].bytes, 64u);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// The program's figures: what it asked for, and a quarantined block counts as freed.
TEST(ScalableResource, CheckedModeCountsRequestsAndQuarantinedFreesAsTheProgramMadeThem) {
  test_upstream up;
  scalable_options o;
  o.checked = true;
  scalable_resource r(o, &up);
  void* p = r.allocate(64, 16);
  resource_stats s = r.stats();
  EXPECT_EQ(s.live_requested_bytes, 64u);
  EXPECT_EQ(s.total_requested_bytes, 64u);
  EXPECT_EQ(s.live_usable_bytes, r.usable_size(64, 16));
  EXPECT_GE(r.usable_size(64, 16), 64u + 8u);  // room for the canary
  r.deallocate(p, 64, 16);
  s = r.stats();
  EXPECT_EQ(s.deallocations, 1u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_requested_bytes, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  r.flush_quarantine();
  const resource_stats after = r.stats();
  EXPECT_EQ(after.deallocations, 1u);
  EXPECT_EQ(after.live_blocks, 0u);
}

// An open scope sends calls down the slow path, which must report them like the fast path counts them.
TEST(ScalableResource, AllocationScopesSeeEveryCall) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  void* warm = r.allocate(64, 16);  // the thread has a cache: the fast path would serve the rest
  r.deallocate(warm, 64, 16);
  scope_report report;
  {
    allocation_scope scope(r);
    scope.report_on_close(report);
    void* a = r.allocate(64, 16);
    void* b = r.allocate(100000, 16);
    r.deallocate(a, 64, 16);
    (void)b;
    r.deallocate(b, 100000, 16);
  }
  EXPECT_EQ(report.allocations, 2u);
  EXPECT_EQ(report.deallocations, 2u);
  EXPECT_EQ(report.bytes_allocated, 100064u);
  EXPECT_EQ(r.stats().allocations, 3u);
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

TEST(ScalableResource, RejectsBadOptions) {
  test_upstream up;
  auto build = [&](scalable_options o) { scalable_resource r(o, &up); };
  scalable_options o;
  o.span_bytes = 5000;
  EXPECT_THROW(build(o), std::invalid_argument);
  o = {};
  o.classes = {16, 12};
  EXPECT_THROW(build(o), std::invalid_argument);
  o = {};
  o.max_small = 1 << 20;
  EXPECT_THROW(build(o), std::invalid_argument);
  EXPECT_THROW(scalable_resource(scalable_options{}, nullptr), std::invalid_argument);
}

TEST(ScalableLayout, PresetBuildsAScalableResource) {
  test_upstream up;
  auto r = make_preset("scalable", &up);
  EXPECT_EQ(r->kind(), "scalable");
  auto* s = dynamic_cast<scalable_resource*>(r.get());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->max_size(), 32768u);
  void* p = r->allocate(64, 64);
  r->deallocate(p, 64, 64);
}

nlohmann::json layout(nlohmann::json node) {
  return nlohmann::json{{"name", "t"}, {"resource", std::move(node)}};
}

TEST(ScalableLayout, FieldsReachTheResource) {
  test_upstream up;
  auto r = build_resource(layout(nlohmann::json::parse(
                              R"({"type": "scalable", "classes": [8, 24, 64, 1000], "span_bytes": 8192,
                                  "checked": false})")),
                          "t.json", &up);
  auto* s = dynamic_cast<scalable_resource*>(r.get());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->class_sizes(), (std::vector<std::size_t>{8, 24, 64, 1000}));
  EXPECT_EQ(s->span_bytes_for(8), 8192u);
  EXPECT_FALSE(s->checked());
  auto c = build_resource(layout(nlohmann::json::parse(R"({"type": "scalable", "checked": true,
                                                           "checked_fill_bytes": 256})")),
                          "t.json", &up);
  EXPECT_EQ(dynamic_cast<scalable_resource*>(c.get())->checked_fill_bytes(), 256u);
  auto g = build_resource(layout(nlohmann::json::parse(R"({"type": "scalable", "small_step": 8,
                                                           "max_small": 4096})")),
                          "t.json", &up);
  EXPECT_EQ(dynamic_cast<scalable_resource*>(g.get())->max_size(), 4096u);
}

void expect_config_error(const std::string& node, const std::string& field) {
  test_upstream up;
  try {
    build_resource(layout(nlohmann::json::parse(node)), "t.json", &up);
    ADD_FAILURE() << "no error for " << node;
  } catch (const config_error& e) {
    EXPECT_EQ(e.file(), "t.json");
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

TEST(ScalableLayout, BadFieldsAreConfigErrors) {
  expect_config_error(R"({"type": "scalable", "span_byte": 4096})", "resource.span_byte");
  expect_config_error(R"({"type": "scalable", "classes": [16, 12]})", "resource.classes[1]");
  expect_config_error(R"({"type": "scalable", "classes": [16, 32, 32]})", "resource.classes[2]");
  expect_config_error(R"({"type": "scalable", "classes": [16], "max_small": 16})", "resource.max_small");
  expect_config_error(R"({"type": "scalable", "span_bytes": 5000})", "resource");
  expect_config_error(R"({"type": "scalable", "max_batch": -1})", "resource.max_batch");
  expect_config_error(R"({"type": "scalable", "checked": "yes"})", "resource.checked");
  expect_config_error(R"({"type": "scalable", "checked_fill_bytes": 4097})", "resource");
  expect_config_error(R"({"type": "scalable", "class_burst_batches": 1025})", "resource");
  expect_config_error(R"({"type": "scalable", "class_burst_batches": "many"})", "resource.class_burst_batches");
  expect_config_error(R"({"type": "scalable", "checked_fill_bytes": -32})", "resource.checked_fill_bytes");
}

}  // namespace
}  // namespace allocbench
