#include "pmr/recording_resource.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>

namespace allocbench {
namespace {

std::atomic<std::uint64_t> next_serial{1};
std::atomic<std::uint64_t> next_thread_key{1};
// This thread's identity, never reused by a later thread (an address of a thread_local could be).
thread_local const std::uint64_t thread_key = next_thread_key.fetch_add(1);

// The stream this thread last used, and whose it is.
struct stream_cache {
  std::uint64_t serial = 0;
  void* stream = nullptr;
};
thread_local stream_cache cache;

std::string program_name() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  for (char& c : s) {
    if (c == '\0') c = ' ';
  }
  return s.substr(0, trace::kMaxProgramBytes);
}

std::uint8_t log2_of(std::size_t a) { return std::uint8_t(a == 0 ? 0 : __builtin_ctzll(a)); }

}  // namespace

recording_resource::recording_resource(std::pmr::memory_resource* upstream)
    : upstream_(upstream), serial_(next_serial.fetch_add(1)), start_(trace::clock_mark_now()),
      start_unix_ns_(trace::unix_ns()) {}

recording_resource::~recording_resource() = default;

recording_resource::stream& recording_resource::my_stream() {
  if (cache.serial == serial_) return *static_cast<stream*>(cache.stream);
  // A thread's first event here (or after it used another recording_resource): look it up by
  // thread, under the list lock.
  std::lock_guard<std::mutex> g(streams_lock_);
  stream* s = nullptr;
  for (const std::unique_ptr<stream>& x : streams_) {
    if (x->thread_key == thread_key) s = x.get();
  }
  if (s == nullptr) {
    streams_.push_back(std::make_unique<stream>());
    s = streams_.back().get();
    s->thread = std::uint32_t(streams_.size() - 1);
    s->thread_key = thread_key;
  }
  cache = {serial_, s};
  return *s;
}

void recording_resource::add(trace::event_kind kind, void* p, std::size_t bytes, std::size_t alignment,
                             std::uint64_t ticks) {
  stream& s = my_stream();
  trace::event e;
  e.ticks = ticks;
  e.kind = kind;
  e.flags = trace::kFlagAlign | (kind == trace::event_kind::pmr_deallocate ? trace::kFlagSize : 0);
  e.align_log2 = log2_of(alignment);
  e.address = reinterpret_cast<std::uintptr_t>(p);
  e.size = bytes;
  std::lock_guard<std::mutex> g(s.lock);
  s.events.push_back(e);
}

void* recording_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* p = upstream_->allocate(bytes, alignment);
  try {
    add(trace::event_kind::pmr_allocate, p, bytes, alignment, trace::ticks_now());
  } catch (...) {
    upstream_->deallocate(p, bytes, alignment);  // no memory lost when the record cannot grow
    throw;
  }
  return p;
}

void recording_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  // Stamped before the block goes back: its reuse by another thread comes later in time. A free
  // that cannot be recorded (out of memory for the stream) still frees.
  try {
    add(trace::event_kind::pmr_deallocate, p, bytes, alignment, trace::ticks_now());
  } catch (...) {
  }
  upstream_->deallocate(p, bytes, alignment);
}

trace::trace_data recording_resource::snapshot() const {
  trace::trace_data t;
  t.header.clock_hz = trace::clock_hz_since(start_);
  t.header.start_unix_ns = start_unix_ns_;
  t.header.start_ticks = start_.ticks;
  t.header.pid = std::uint32_t(getpid());
  t.header.ppid = std::uint32_t(getppid());
  t.header.program = program_name();
  std::lock_guard<std::mutex> g(streams_lock_);
  for (const std::unique_ptr<stream>& s : streams_) {
    std::lock_guard<std::mutex> sg(s->lock);
    t.threads.push_back({s->thread, s->events, s->events.size()});
  }
  t.end_ticks = trace::ticks_now();
  return t;
}

void recording_resource::save(const std::filesystem::path& path) const { trace::write_trace(path, snapshot()); }

std::uint64_t recording_resource::events() const {
  std::lock_guard<std::mutex> g(streams_lock_);
  std::uint64_t n = 0;
  for (const std::unique_ptr<stream>& s : streams_) {
    std::lock_guard<std::mutex> sg(s->lock);
    n += s->events.size();
  }
  return n;
}

}  // namespace allocbench
