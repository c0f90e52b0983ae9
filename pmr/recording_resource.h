// allocbench::recording_resource: wraps any upstream resource and records every allocate and
// deallocate (operation, size, alignment, thread, block address as its identity, time) into an
// allocbench trace, which save() writes as an .abt file that `//bench` replays against every
// allocator (README, "Record and replay").
//
//   allocbench::recording_resource rec(pool.get());
//   std::pmr::vector<int> v(1000, &rec);
//   ...
//   rec.save("my_program.abt");   // then: tools/bazel run //bench:replay -- --trace=my_program.abt
//
// Each thread records into a stream of its own (found through a thread-local cache, so the record
// path takes only that stream's lock, which nothing else holds except snapshot()). Events are kept in
// memory (40 bytes each) until save() or snapshot(); the encoded file takes 4 to 9 bytes per event.
// An allocation that throws is not recorded. Thread-safe; snapshot() and save() may run while other
// threads allocate (they see each stream up to a moment during the call).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <vector>

#include "trace/trace_clock.h"
#include "trace/trace_file.h"

namespace allocbench {

class recording_resource final : public std::pmr::memory_resource {
 public:
  explicit recording_resource(std::pmr::memory_resource* upstream = std::pmr::get_default_resource());
  ~recording_resource() override;
  recording_resource(const recording_resource&) = delete;
  recording_resource& operator=(const recording_resource&) = delete;

  std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

  // The recording so far: one stream per thread that used this resource, numbered in the order
  // they first did; header with this process's pid, the start date and the clock rate.
  trace::trace_data snapshot() const;
  // Writes snapshot() to `path` (trace::write_trace; std::runtime_error when it cannot).
  void save(const std::filesystem::path& path) const;
  std::uint64_t events() const;

 private:
  struct stream {
    mutable std::mutex lock;
    std::uint32_t thread = 0;
    std::uint64_t thread_key = 0;  // the owning thread's identity (recording_resource.cc)
    std::vector<trace::event> events;
  };

  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  stream& my_stream();
  void add(trace::event_kind kind, void* p, std::size_t bytes, std::size_t alignment, std::uint64_t ticks);

  std::pmr::memory_resource* upstream_;
  const std::uint64_t serial_;  // tells the thread-local cache this instance from an earlier one at its address
  trace::clock_mark start_;
  std::uint64_t start_unix_ns_;
  mutable std::mutex streams_lock_;  // the list only, taken when a thread first records here
  std::vector<std::unique_ptr<stream>> streams_;
};

}  // namespace allocbench
