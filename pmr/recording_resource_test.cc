// recording_resource: every call recorded with its thread, size, alignment and block, and the saved
// file reads back as the same events.
#include "pmr/recording_resource.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "pmr/presets.h"
#include "trace/block_resolver.h"

namespace allocbench {
namespace {

TEST(RecordingResource, RecordsEachThreadsCallsAndCrossThreadFrees) {
  auto pool = make_preset("scalable");
  recording_resource rec(pool.get());
  void* a = rec.allocate(24, 8);
  void* b = rec.allocate(300, 64);
  void* handed = nullptr;
  std::thread t([&] {
    void* c = rec.allocate(4096, 4096);
    rec.deallocate(c, 4096, 4096);
    handed = rec.allocate(77, 16);
  });
  t.join();
  rec.deallocate(handed, 77, 16);  // a cross-thread free
  rec.deallocate(b, 300, 64);
  rec.deallocate(a, 24, 8);
  EXPECT_EQ(rec.events(), 8u);

  const trace::trace_data d = rec.snapshot();
  ASSERT_EQ(d.threads.size(), 2u);
  const std::vector<trace::event>& main = d.threads[0].events;
  ASSERT_EQ(main.size(), 5u);
  EXPECT_EQ(main[0].kind, trace::event_kind::pmr_allocate);
  EXPECT_EQ(main[0].size, 24u);
  EXPECT_EQ(main[0].alignment(), 8u);
  EXPECT_EQ(main[1].alignment(), 64u);
  EXPECT_EQ(main[2].kind, trace::event_kind::pmr_deallocate);
  EXPECT_EQ(main[2].address, reinterpret_cast<std::uintptr_t>(handed));
  EXPECT_EQ(main[2].size, 77u);
  ASSERT_EQ(d.threads[1].events.size(), 3u);
  EXPECT_EQ(d.threads[1].events[0].alignment(), 4096u);
  EXPECT_GT(d.header.clock_hz, 0u);

  const trace::resolved_trace r = trace::resolve_blocks(d);
  EXPECT_EQ(r.allocations, 4u);
  EXPECT_EQ(r.frees, 4u);
  EXPECT_EQ(r.cross_thread, 1u);
  EXPECT_EQ(r.live_at_end, 0u);
}

TEST(RecordingResource, SavedFileReadsBackExactly) {
  recording_resource rec;
  std::vector<void*> blocks;
  for (std::size_t i = 1; i <= 200; ++i) blocks.push_back(rec.allocate(i * 3, 16));
  for (std::size_t i = 0; i < blocks.size(); ++i) rec.deallocate(blocks[i], (i + 1) * 3, 16);
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::filesystem::path path = std::filesystem::path(dir != nullptr ? dir : "/tmp") / "recording.abt";
  rec.save(path);
  const trace::trace_data back = trace::read_trace(path);
  const trace::trace_data now = rec.snapshot();
  ASSERT_EQ(back.threads.size(), 1u);
  EXPECT_EQ(back.threads[0].events, now.threads[0].events);
  // The goal of the format: at most 16 bytes per event on disk.
  EXPECT_LE(double(back.file_bytes) / double(back.events()), 16.0);
}

TEST(RecordingResource, RecordsNothingForAFailedAllocation) {
  recording_resource rec(std::pmr::null_memory_resource());
  EXPECT_THROW((void)rec.allocate(8, 8), std::bad_alloc);
  EXPECT_EQ(rec.events(), 0u);
}

}  // namespace
}  // namespace allocbench
