// The trace workload: a recorded trace replays on every allocator of this process with every block
// freed once (cross-thread frees waiting for their allocation only), the shipped trace configs parse
// and replay, and a bad trace is a config error naming the field, the offset and the reason.
#include "bench/trace_replay.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bench/allocator_registry.h"
#include "bench/trace_backend.h"
#include "bench/trace_workload.h"
#include "bench/workload_config.h"
#include "pmr/config_error.h"
#include "pmr/instrumented_resource.h"
#include "trace/testing/test_events.h"
#include "trace/trace_file.h"

namespace allocbench::bench {
namespace {

namespace fs = std::filesystem;
using trace::event;
using trace::event_kind;

fs::path tmp(const std::string& name) { return fs::path(std::getenv("TEST_TMPDIR")) / name; }

template <typename... A>
event ev(A... a) {
  return trace::testing::make_event(a...);
}

// Three threads: each allocates its own blocks (some 64-byte aligned), thread t frees blocks of
// thread t - 1 (mod 3) allocated earlier, reallocs grow and move blocks, and some blocks stay live to the end.
trace::trace_data synthetic() {
  trace::trace_data t;
  t.header.clock_hz = 1'000'000'000;
  t.threads.resize(3);
  for (std::uint32_t th = 0; th < 3; ++th) {
    t.threads[th].thread = th;
    for (std::uint64_t i = 0; i < 300; ++i) {
      const std::uint64_t tick = 10 * i + th;
      const std::uint64_t addr = (std::uint64_t(th + 1) << 32) + i * 4096;
      event a = ev(tick * 10, event_kind::malloc, addr, 16 + (i * 37) % 5000);
      if (i % 5 == 0) {
        a.kind = event_kind::posix_memalign;
        a.flags = trace::kFlagAlign;
        a.align_log2 = 6;
      }
      t.threads[th].events.push_back(a);
      if (i % 7 == 3) t.threads[th].events.push_back(ev(tick * 10 + 1, event_kind::realloc, addr, 9000, addr + 1024));
      // The previous thread's block (in a ring) from 5 rounds ago, freed here.
      if (i >= 5 && i % 2 == 0) {
        const std::uint32_t owner = (th + 2) % 3;
        const std::uint64_t j = i - 5;
        const std::uint64_t old = (std::uint64_t(owner + 1) << 32) + j * 4096 + (j % 7 == 3 ? 1024 : 0);
        t.threads[th].events.push_back(ev(tick * 10 + 5, event_kind::free, old));
      }
    }
  }
  return t;
}

workload_config write_config(const std::string& name, const trace::trace_data& t) {
  trace::write_trace(tmp(name + ".abt"), t);
  std::ofstream(tmp(name + ".json")) << "{\"name\": \"" << name << "\", \"pattern\": \"trace\", \"path\": \"" << name
                                     << ".abt\", \"passes\": 2}";
  return load_workload(tmp(name + ".json"));
}

bool skipped_here(const std::string& allocator) {
#if defined(__SANITIZE_THREAD__)
  return allocator == "tbb";  // not instrumented: tsan takes its block reuse for a race
#else
  (void)allocator;
  return false;
#endif
}

void replay_on_every_allocator(const workload_config& w) {
  const std::shared_ptr<const trace::resolved_trace> t = load_replay(w);
  std::uint64_t calls = 0;
  for (const trace::resolved_thread& th : t->threads) {
    for (const trace::resolved_op& op : th.ops) calls += op.kind == trace::resolved_kind::realloc ? 2 : 1;
  }
  for (const allocator_entry& e : backend_allocators({})) {
    if (skipped_here(e.name) || (e.single_thread_only && t->threads.size() > 1)) continue;
    SCOPED_TRACE(w.name + " on " + e.name);
    std::unique_ptr<std::pmr::memory_resource> r = e.make();
    const replay_result res = run_replay(*t, *r, w.trace_passes);
    EXPECT_EQ(res.allocations, res.deallocations);
    EXPECT_EQ(res.allocations + res.deallocations, calls * w.trace_passes);
    EXPECT_EQ(res.threads, int(t->threads.size()));
    if (auto* ours = dynamic_cast<instrumented_resource*>(r.get())) {
      const resource_stats s = ours->stats();
      EXPECT_EQ(s.allocations, res.allocations);
      EXPECT_EQ(s.deallocations, res.deallocations);
      EXPECT_EQ(s.live_blocks, 0u);
      EXPECT_EQ(s.live_bytes, 0u);
    }
  }
}

TEST(TraceReplay, SyntheticTraceFreesEverythingOnEveryAllocator) {
  const workload_config w = write_config("synthetic", synthetic());
  EXPECT_EQ(w.pattern, workload_pattern::trace);
  EXPECT_EQ(w.threads, std::vector<int>{3});
  const std::shared_ptr<const trace::resolved_trace> t = load_replay(w);
  EXPECT_GT(t->cross_thread, 100u);
  EXPECT_GT(t->live_at_end, 0u);
  EXPECT_EQ(t->unmatched_frees, 0u);
  replay_on_every_allocator(w);
}

TEST(TraceReplay, ShippedTraceConfigsParseAndTheSmallOnesReplay) {
  int traces = 0;
  for (const auto& f : fs::directory_iterator("configs/workloads")) {
    if (f.path().filename().string().rfind("trace_", 0) != 0) continue;
    SCOPED_TRACE(f.path().string());
    const workload_config w = load_workload(f.path());
    EXPECT_EQ(w.pattern, workload_pattern::trace);
    EXPECT_EQ(w.name, f.path().stem().string());
    ++traces;
    // The two small traces on every allocator; the others are replayed by //bench:all.
    if (w.name == "trace_xz_t2" || w.name == "trace_gxx_cc1plus") replay_on_every_allocator(w);
  }
  EXPECT_GE(traces, 3);
}

TEST(TraceReplay, BackendRecordsCarryTheTraceMetrics) {
  backend_request req;
  req.workload = write_config("backend", synthetic());
  req.threads = req.workload.threads;
  req.reps = 1;
  req.progress = false;
  req.allocators = {"scalable", "glibc"};
  const nlohmann::json out = run_backend(req, backend_allocators({}));
  ASSERT_EQ(out.at("runs").size(), 2u);
  for (const nlohmann::json& r : out.at("runs")) {
    EXPECT_TRUE(r.at("consistent").get<bool>());
    EXPECT_GT(r.at("trace").at("ideal_peak_bytes").get<std::uint64_t>(), 0u);
    EXPECT_GT(r.at("trace").at("calls_ns").at("samples").get<std::uint64_t>(), 0u);
  }
  req.threads = {4};
  EXPECT_THROW(run_backend(req, backend_allocators({})), std::invalid_argument);
}

std::string config_error_of(const std::string& doc) {
  std::ofstream(tmp("bad.json")) << doc;
  try {
    load_workload(tmp("bad.json"));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

TEST(TraceReplay, BadTracesAreConfigErrors) {
  const std::vector<std::uint8_t> bytes = trace::encode_trace(synthetic());
  std::ofstream(tmp("cut.abt"), std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), 1000);
  const std::string cut = config_error_of(R"({"name": "x", "pattern": "trace", "path": "cut.abt"})");
  EXPECT_NE(cut.find("path"), std::string::npos) << cut;
  EXPECT_NE(cut.find("offset"), std::string::npos) << cut;
  EXPECT_NE(cut.find("truncated"), std::string::npos) << cut;
  EXPECT_NE(config_error_of(R"({"name": "x", "pattern": "trace", "path": "nothere.abt"})").find("no such file"),
            std::string::npos);
  EXPECT_NE(config_error_of(R"({"name": "x", "pattern": "trace"})").find("path"), std::string::npos);
  EXPECT_NE(config_error_of(R"({"name": "x", "pattern": "trace", "path": "cut.abt", "sizes": {"list": [8]}})")
                .find("sizes"),
            std::string::npos);
  EXPECT_NE(config_error_of(R"({"name": "x", "pattern": "trace", "path": "cut.abt", "passes": 0})").find("passes"),
            std::string::npos);
}

}  // namespace
}  // namespace allocbench::bench
