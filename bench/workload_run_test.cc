// Every shipped workload, tiny, against every allocator of the ours_glibc_std backend: traces are
// well-formed and deterministic, every run frees all it allocates, and our resources' stats agree.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <vector>
#include <mutex>
#include <set>
#include <thread>

#include "bench/allocator_registry.h"
#include "bench/backend_runner.h"
#include "bench/peers/peer_contract_check.h"
#include "bench/peers/peer_resource.h"
#include "bench/results.h"
#include "bench/runner.h"
#include "bench/trace.h"
#include "bench/workload_config.h"
#include "pmr/instrumented_resource.h"

namespace allocbench::bench {
namespace {

std::vector<std::string> shipped_workloads() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator("configs/workloads")) {
    // Trace workloads are replayed, not generated: trace_replay_test.cc runs them.
    if (e.path().filename().string().rfind("trace_", 0) != 0) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
    }

workload_config tiny(const std::string& path, std::size_t ops = 3000) {
  workload_config w = load_workload(path);
  w.ops_per_thread = ops;
  return w;
}

bool skipped_here(const std::string& allocator) {
#if defined(__SANITIZE_THREAD__)
  // tbbmalloc is not instrumented: tsan cannot see its internal synchronisation and reports the
  // reuse of a block by another thread as a race.
  return allocator == "tbb";
#else
  (void)allocator;
  return false;
#endif
}

class Workload : public ::testing::TestWithParam<std::string> {};

TEST_P(Workload, TraceIsDeterministicAndEndsEmpty) {
  const workload_config w = tiny(GetParam());
  const std::vector<thread_trace> a = generate_traces(w, 2);
  const std::vector<thread_trace> b = generate_traces(w, 2);
  const std::vector<thread_trace> one = generate_traces(w, 1);
  ASSERT_EQ(a.size(), 2u);
  for (int t = 0; t < 2; ++t) {
    ASSERT_EQ(a[t].ops.size(), b[t].ops.size());
    for (std::size_t i = 0; i < a[t].ops.size(); ++i) {
      ASSERT_EQ(a[t].ops[i].kind, b[t].ops[i].kind);
      ASSERT_EQ(a[t].ops[i].slot, b[t].ops[i].slot);
      ASSERT_EQ(a[t].ops[i].size, b[t].ops[i].size);
    }
  }
  EXPECT_EQ(one[0].ops.size(), a[0].ops.size()) << "thread 0's trace must not depend on the thread count";
  EXPECT_GE(a[0].ops.size(), w.ops_per_thread);
  if (a[0].handoff) return;  // the ring's plan has no slots; the runner checks its balance
  // Replay the slot states: no double allocation or free, and nothing live at the end (so the
  // runner may wrap around).
  std::vector<int> raw(a[0].slots, 0), tensor(a[0].slots, 0), buffer(a[0].slots, 0), map(a[0].slots, 0);
  for (const op& o : a[0].ops) {
    switch (o.kind) {
      case op_kind::allocate: ASSERT_EQ(raw[o.slot]++, 0); break;
      case op_kind::deallocate: ASSERT_EQ(raw[o.slot]--, 1); break;
      case op_kind::tensor_resize: tensor[o.slot] = 1; break;
      case op_kind::tensor_drop: ASSERT_EQ(tensor[o.slot], 1); tensor[o.slot] = 0; break;
      case op_kind::buffer_resize: case op_kind::buffer_grow:
        ASSERT_TRUE(a[0].uses_buffers);
        buffer[o.slot] = 1;
        break;
      case op_kind::buffer_drop: ASSERT_EQ(buffer[o.slot], 1); buffer[o.slot] = 0; break;
      case op_kind::map_insert: case op_kind::umap_insert: ASSERT_EQ(map[o.slot]++, 0); break;
      case op_kind::map_erase: case op_kind::umap_erase: ASSERT_EQ(map[o.slot]--, 1); break;
      default: FAIL() << "unexpected op";
    }
  }
  for (std::uint32_t s = 0; s < a[0].slots; ++s) {
    ASSERT_EQ(raw[s] + tensor[s] + buffer[s] + map[s], 0) << "slot " << s << " live at the end";
  }
}

// Which shipped workloads carry items in tensor_buffers: the report's four stay raw-only.
TEST(Traces, TensorBuffersWhereTheWorkloadAsksForThem) {
  for (const std::string& path : shipped_workloads()) {
    SCOPED_TRACE(path);
    const workload_config w = tiny(path);
    const thread_trace t = generate_traces(w, 1)[0];
    const bool buffer_ops = std::any_of(t.ops.begin(), t.ops.end(), [](const op& o) {
      return o.kind == op_kind::buffer_resize || o.kind == op_kind::buffer_grow;
    });
    const bool expected = w.name == "replay_buffer" || w.name == "inference_kv";
    EXPECT_EQ(t.uses_buffers, expected);
    EXPECT_EQ(buffer_ops, expected);
  }
}

TEST_P(Workload, EveryAllocatorFreesAllItAllocates) {
  const workload_config w = tiny(GetParam());
  run_settings settings;
  settings.repeat = false;
  settings.seconds = 0;
  settings.alignment = w.alignment;
  settings.queue_capacity = w.queue_capacity;
  for (const allocator_entry& e : backend_allocators({})) {
    if (skipped_here(e.name)) continue;
    for (int threads : {1, 3}) {
      if (e.single_thread_only && threads > 1) continue;
      SCOPED_TRACE(e.name + " x " + std::to_string(threads) + " threads");
      const std::vector<thread_trace> traces = generate_traces(w, threads);
      std::unique_ptr<std::pmr::memory_resource> r = e.make();
      const run_result res = run_timed(traces, *r, settings);
      EXPECT_GT(res.allocations, 0u);
      EXPECT_GT(res.seconds, 0.0);
      EXPECT_EQ(res.total_allocations, res.total_deallocations);
      EXPECT_GE(res.total_allocations, res.allocations);
      if (auto* ours = dynamic_cast<instrumented_resource*>(r.get())) {
        const resource_stats s = ours->stats();
        EXPECT_EQ(s.allocations, s.deallocations);
        EXPECT_EQ(s.allocations, res.total_allocations);
        EXPECT_EQ(s.live_blocks, 0u);
        EXPECT_EQ(s.live_bytes, 0u);
        EXPECT_GT(s.peak_live_bytes, 0u);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, Workload, ::testing::ValuesIn(shipped_workloads()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return std::filesystem::path(info.param).stem().string();
                         });

TEST(Runner, RepeatsTheTraceUntilTheTimeIsUp) {
  const workload_config w = tiny("configs/workloads/rl_small.json", 2000);
  const std::vector<thread_trace> traces = generate_traces(w, 2);
  run_settings settings;
  settings.repeat = true;
  settings.seconds = 0.05;
  for (const allocator_entry& e : backend_allocators({})) {
    if (e.name != "glibc" && e.name != "seed_baseline") continue;
    std::unique_ptr<std::pmr::memory_resource> r = e.make();
    const run_result res = run_timed(traces, *r, settings);
    EXPECT_GE(res.seconds, 0.05);
    EXPECT_EQ(res.total_allocations, res.total_deallocations);
  }
}

TEST(Runner, RingWithOneSlotQueuesNeitherDeadlocksNorLeaks) {
  workload_config w = tiny("configs/workloads/cross_thread.json", 2000);
  w.allocate_probability = 0.9;  // mostly sends: the queues are full most of the time
  run_settings settings;
  settings.repeat = false;
  settings.seconds = 0;
  settings.queue_capacity = 1;
  for (int threads : {1, 2, 5}) {
    const std::vector<thread_trace> traces = generate_traces(w, threads);
    for (const allocator_entry& e : backend_allocators({})) {
      if (e.name != "glibc" && e.name != "seed_sharded") continue;
      std::unique_ptr<std::pmr::memory_resource> r = e.make();
      const run_result res = run_timed(traces, *r, settings);
      EXPECT_EQ(res.total_allocations, res.total_deallocations);
      EXPECT_GT(res.deallocations, 0u);
    }
  }
}

// Every call, in the order the resource saw them, with the calling thread.
class call_log_resource : public std::pmr::memory_resource {
 public:
  struct call {
    std::thread::id thread;
    bool allocate;
    std::size_t bytes;
  };
  std::vector<call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    note(true, bytes);
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    note(false, bytes);
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
  void note(bool allocate, std::size_t bytes) {
    std::lock_guard lock(mu_);
    calls_.push_back({std::this_thread::get_id(), allocate, bytes});
  }
  mutable std::mutex mu_;
  std::vector<call> calls_;
};

TEST(Runner, EachThreadMeetsTheResourceBeforeTheWindowOpens) {
  // A resource's per-thread state (a scalable resource's thread cache) is made by one balanced pair
  // of the trace's first size before any thread runs its trace, as a process-wide malloc's is made
  // by the harness's own allocations: never inside the first timed (and always sampled) op.
  const workload_config w = tiny("configs/workloads/rl_small.json", 500);
  const std::vector<thread_trace> traces = generate_traces(w, 3);
  run_settings settings;
  settings.repeat = false;
  settings.seconds = 0;
  call_log_resource log;
  const run_result res = run_timed(traces, log, settings);
  EXPECT_EQ(res.total_allocations, res.total_deallocations);
  const std::vector<call_log_resource::call> calls = log.calls();
  // The first 2 * 3 calls are the three threads' pairs, each thread's allocate before its deallocate.
  ASSERT_GT(calls.size(), 6u);
  std::set<std::thread::id> warmed;
  for (std::size_t i = 0; i < 6; ++i) {
    if (calls[i].allocate) {
      EXPECT_TRUE(warmed.insert(calls[i].thread).second) << "call " << i;
    } else {
      EXPECT_EQ(warmed.count(calls[i].thread), 1u) << "call " << i;
    }
  }
  EXPECT_EQ(warmed.size(), 3u);
  // Each pair is of its trace's first allocation size.
  std::multiset<std::size_t> expected, seen;
  for (const thread_trace& t : traces) {
    const auto first = std::find_if(t.ops.begin(), t.ops.end(), [](const op& o) { return o.kind == op_kind::allocate; });
    ASSERT_NE(first, t.ops.end());
    expected.insert(first->size);
  }
  for (std::size_t i = 0; i < 6; ++i) {
    if (calls[i].allocate) seen.insert(calls[i].bytes);
  }
  EXPECT_EQ(seen, expected);
}

TEST(Peers, HonourAlignmentAndReportUsableSize) {
  for (const allocator_entry& e : backend_allocators({})) {
    std::unique_ptr<std::pmr::memory_resource> r = e.make();
    if (dynamic_cast<peer_resource*>(r.get()) == nullptr) continue;
    SCOPED_TRACE(e.name);
    check_peer_contract(*r);
  }
}

TEST(Backend, InterleavesRepsAndSummarises) {
  backend_request req;
  req.workload = tiny("configs/workloads/rl_medium.json", 500);
  req.threads = {1, 2};
  req.reps = 2;
  req.timing.repeat = false;
  req.timing.seconds = 0;
  req.allocators = {"glibc", "seed_baseline", "std_unsynchronized_pool"};
  req.progress = false;
  const nlohmann::json out = run_backend(req, backend_allocators({}));
  ASSERT_EQ(out["runs"].size(), 10u);  // 3 allocators x 2 reps at 1 thread, 2 x 2 at 2 threads
  // Interleaved: rep 1 of every allocator comes before rep 2 of any.
  EXPECT_EQ(out["runs"][0]["allocator"], "seed_baseline");
  EXPECT_EQ(out["runs"][0]["rep"], 1);
  EXPECT_EQ(out["runs"][2]["rep"], 1);
  EXPECT_EQ(out["runs"][3]["rep"], 2);
  ASSERT_EQ(out["measures"].size(), 2u);  // glibc at 1 and 2 threads
  for (const nlohmann::json& r : out["runs"]) EXPECT_TRUE(r["consistent"].get<bool>()) << r.dump();

  nlohmann::json doc = out;
  doc["backend"] = "ours_glibc_std";
  const std::vector<summary_row> rows = summarize({doc});
  ASSERT_EQ(rows.size(), 5u);
  for (const summary_row& row : rows) {
    EXPECT_EQ(row.reps, 2);
    EXPECT_LE(row.mops_min, row.mops_median);
    EXPECT_LE(row.mops_median, row.mops_max);
    ASSERT_TRUE(row.ratio_to_glibc.has_value());
    if (row.allocator == "glibc") {
      EXPECT_DOUBLE_EQ(*row.ratio_to_glibc, 1.0);
    }
    if (row.allocator != "std_unsynchronized_pool") {
      EXPECT_TRUE(row.overhead_ratio.has_value());
    }
  }
}

}  // namespace
}  // namespace allocbench::bench
