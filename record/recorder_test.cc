// The LD_PRELOAD recorder on a program of ours (recorder_probe.cc): every call recorded with its
// thread, size and alignment, the cross-thread frees found, the forked child in a file of its own,
// and the recorder's own allocations absent. A preloaded library and a sanitizer's runtime exclude
// each other, so this test is not built for asan, tsan or ubsan (record/BUILD.bazel).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "trace/block_resolver.h"
#include "trace/trace_file.h"

namespace fs = std::filesystem;
using allocbench::trace::event;
using allocbench::trace::event_kind;

namespace {

struct recorded {
  allocbench::trace::trace_data parent, child;
};

recorded run_probe(const std::string& extra_env = "") {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / ("probe" + extra_env.substr(0, 1));
  fs::create_directories(dir);
  const fs::path out = dir / "probe.abt";
  const fs::path so = fs::absolute("record/liballocbench_record.so");
  const std::string cmd = "ALLOCBENCH_RECORD_OUT='" + out.string() + "' LD_PRELOAD='" + so.string() + "' " + extra_env +
                          " record/recorder_probe > '" + (dir / "pid").string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::FILE* f = std::fopen((dir / "pid").c_str(), "r");
  int pid = 0;
  EXPECT_TRUE(f != nullptr && std::fscanf(f, "%d", &pid) == 1);
  if (f != nullptr) std::fclose(f);
  recorded r;
  r.parent = allocbench::trace::read_trace(out);
  const fs::path child = dir / ("probe." + std::to_string(pid) + ".abt");
  if (fs::exists(child)) r.child = allocbench::trace::read_trace(child);
  return r;
}

// The events of `s` with this size (the probe's sizes are unique).
const event* find_size(const allocbench::trace::thread_stream& s, event_kind k, std::uint64_t size) {
  for (const event& e : s.events) {
    if (e.kind == k && e.size == size) return &e;
  }
  return nullptr;
}

TEST(Recorder, RecordsEveryCallWithThreadSizeAndAlignment) {
  const recorded r = run_probe();
  ASSERT_EQ(r.parent.threads.size(), 2u);
  const auto& main = r.parent.threads[0];
  const auto& worker = r.parent.threads[1];
  EXPECT_NE(r.parent.header.program.find("recorder_probe"), std::string::npos);
  EXPECT_GT(r.parent.header.clock_hz, 0u);

  ASSERT_NE(find_size(main, event_kind::malloc, 1001), nullptr);
  ASSERT_NE(find_size(main, event_kind::calloc, 1010), nullptr);
  ASSERT_NE(find_size(main, event_kind::realloc, 3003), nullptr);
  const event* pm = find_size(main, event_kind::posix_memalign, 555);
  ASSERT_NE(pm, nullptr);
  EXPECT_EQ(pm->alignment(), 256u);
  EXPECT_EQ(pm->address % 256, 0u);
  ASSERT_NE(find_size(main, event_kind::aligned_alloc, 640), nullptr);
  EXPECT_EQ(find_size(main, event_kind::aligned_alloc, 640)->alignment(), 64u);
  ASSERT_NE(find_size(main, event_kind::memalign, 77), nullptr);
  EXPECT_EQ(find_size(main, event_kind::memalign, 77)->alignment(), 128u);
  ASSERT_NE(find_size(main, event_kind::valloc, 99), nullptr);
  EXPECT_EQ(find_size(main, event_kind::valloc, 99)->alignment(), 4096u);
  ASSERT_NE(find_size(main, event_kind::op_new, 40), nullptr);
  ASSERT_NE(find_size(main, event_kind::op_new_array, 50), nullptr);
  const event* aligned_new = find_size(main, event_kind::op_new, 60);
  ASSERT_NE(aligned_new, nullptr);
  EXPECT_EQ(aligned_new->alignment(), 512u);
  const event* nothrow_new = find_size(main, event_kind::op_new, 70);
  ASSERT_NE(nothrow_new, nullptr);
  EXPECT_NE(nothrow_new->flags & allocbench::trace::kFlagNothrow, 0);
  const event* sized_delete = find_size(main, event_kind::op_delete, 40);
  ASSERT_NE(sized_delete, nullptr);
  EXPECT_NE(sized_delete->flags & allocbench::trace::kFlagSize, 0);

  // Thread 1: exactly its 100 mallocs (the std::thread machinery allocates on the main thread).
  int worker_mallocs = 0;
  for (const event& e : worker.events) {
    if (e.kind == event_kind::malloc && e.size >= 2000 && e.size < 2100) ++worker_mallocs;
  }
  EXPECT_EQ(worker_mallocs, 100);

  const allocbench::trace::resolved_trace res = allocbench::trace::resolve_blocks(r.parent);
  EXPECT_GE(res.cross_thread, 100u);
  EXPECT_EQ(res.unmatched_frees, 0u) << "a free of a block the recording did not see";
}

TEST(Recorder, ForkedChildGetsItsOwnFileUnlessChildrenAreOff) {
  const recorded r = run_probe();
  ASSERT_EQ(r.child.threads.size(), 1u);
  EXPECT_NE(find_size(r.child.threads[0], event_kind::malloc, 4242), nullptr);
  EXPECT_EQ(find_size(r.parent.threads[0], event_kind::malloc, 4242), nullptr);
  // The parent's events before the fork are not repeated in the child's file.
  EXPECT_EQ(find_size(r.child.threads[0], event_kind::malloc, 1001), nullptr);

  const recorded alone = run_probe("ALLOCBENCH_RECORD_CHILDREN=0");
  EXPECT_TRUE(alone.child.threads.empty());
  EXPECT_NE(find_size(alone.parent.threads[0], event_kind::malloc, 1001), nullptr);
}

}  // namespace
