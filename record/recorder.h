// The recorder's state: one buffer per thread (events encoded straight into a chunk, trace/
// chunk_encoder.h), written to the trace file in one write() when full, when its thread exits and
// at process exit. The record path takes only its own thread's buffer flag (uncontended except while
// process exit flushes it); the registry lock is taken when a thread first records, at fork and at exit.
//
// Configuration comes from the environment (set by tools/record):
//   ALLOCBENCH_RECORD_OUT=trace.abt   where the first process writes; unset: forward only, record nothing
//   ALLOCBENCH_RECORD_ROOT=<pid>      the pid that writes to exactly that name; any other process (a
//                                     child, after fork or exec) writes trace.<pid>.abt
//   ALLOCBENCH_RECORD_CHILDREN=0      record the root process only
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "trace/trace_format.h"

namespace allocbench::record {

struct thread_buffer;

// The library's only thread-local object (one per shared object: see pmr-facts on gold and TLS).
struct thread_state {
  thread_buffer* buffer = nullptr;
  int depth = 0;  // > 0 inside an interposed call: nested allocations are the allocator's or ours
};
extern __thread thread_state tls __attribute__((tls_model("initial-exec")));

// True while this process records (configured, and not yet closed at exit).
extern std::atomic<bool> active;

// Appends one event to the calling thread's buffer, stamped now when its thread's clock reading is
// due (recorder.cc, kClockEvery).
void record(trace::event_kind kind, std::uint8_t flags, const void* address, const void* new_address,
            std::size_t size, std::uint8_t align_log2) noexcept;

// Reads the environment, looks up the real allocator, installs the fork and thread-exit hooks.
void start() noexcept;
// Flushes every buffer and writes the end record; later events are forwarded, not recorded.
void finish() noexcept;

inline std::uint8_t log2_of(std::size_t alignment) noexcept {
  return alignment == 0 ? 0 : std::uint8_t(__builtin_ctzll(alignment));
}

}  // namespace allocbench::record
