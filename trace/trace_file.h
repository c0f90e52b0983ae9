// Reading and writing whole .abt files (format: trace_format.h). The reader checks everything: a file
// that is cut short, corrupted, foreign or of a newer version throws trace_error naming the file, the
// byte offset and the reason; nothing is returned half-read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "trace/trace_format.h"

namespace allocbench::trace {

class trace_error : public std::runtime_error {
 public:
  trace_error(const std::string& file, std::uint64_t offset, const std::string& reason)
      : std::runtime_error(file + ": offset " + std::to_string(offset) + ": " + reason), offset_(offset) {}
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint64_t offset_;
};

struct event {
  std::uint64_t ticks = 0;
  event_kind kind = event_kind::malloc;
  std::uint8_t flags = 0;       // kFlagAlign, kFlagSize, kFlagNothrow
  std::uint8_t align_log2 = 0;  // with kFlagAlign
  std::uint64_t address = 0;    // the block (realloc: the old block)
  std::uint64_t new_address = 0;  // realloc only
  std::uint64_t size = 0;       // allocations and realloc; frees with kFlagSize
  std::size_t alignment() const { return (flags & kFlagAlign) != 0 ? std::size_t{1} << align_log2 : 0; }
  bool operator==(const event&) const = default;
};

struct thread_stream {
  std::uint32_t thread = 0;  // the recorder's index, 0 for the first thread that allocated
  std::vector<event> events;  // empty when read with keep_events = false
  std::uint64_t event_count = 0;
};

struct trace_header {
  std::uint16_t version = kVersion;
  std::uint8_t pointer_width = sizeof(void*);
  std::uint64_t clock_hz = 0;
  std::uint64_t start_unix_ns = 0;
  std::uint64_t start_ticks = 0;
  std::uint32_t pid = 0, ppid = 0;
  std::string program;
};

struct trace_data {
  trace_header header;
  std::vector<thread_stream> threads;  // ascending thread index
  std::uint64_t end_ticks = 0;
  std::uint64_t file_bytes = 0;  // as read
  std::uint64_t events() const;
};

// keep_events = false checks the whole file and counts events without storing them; the file is
// mapped, not read into the heap.
trace_data read_trace(const std::filesystem::path& path, bool keep_events = true);
// `name` is what errors call the file.
trace_data parse_trace(const std::uint8_t* bytes, std::size_t size, const std::string& name, bool keep_events = true);

// Writes `t` (chunks of at most `chunk_events` events); throws std::runtime_error when it cannot.
void write_trace(const std::filesystem::path& path, const trace_data& t, std::size_t chunk_events = 4096);
std::vector<std::uint8_t> encode_trace(const trace_data& t, std::size_t chunk_events = 4096);

}  // namespace allocbench::trace
