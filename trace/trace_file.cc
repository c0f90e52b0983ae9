#include "trace/trace_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "trace/chunk_encoder.h"
#include "trace/header_codec.h"

namespace allocbench::trace {

const char* kind_name(event_kind k) {
  switch (k) {
    case event_kind::malloc: return "malloc";
    case event_kind::calloc: return "calloc";
    case event_kind::realloc: return "realloc";
    case event_kind::free: return "free";
    case event_kind::posix_memalign: return "posix_memalign";
    case event_kind::aligned_alloc: return "aligned_alloc";
    case event_kind::memalign: return "memalign";
    case event_kind::valloc: return "valloc";
    case event_kind::pvalloc: return "pvalloc";
    case event_kind::op_new: return "operator new";
    case event_kind::op_new_array: return "operator new[]";
    case event_kind::op_delete: return "operator delete";
    case event_kind::op_delete_array: return "operator delete[]";
    case event_kind::pmr_allocate: return "pmr allocate";
    case event_kind::pmr_deallocate: return "pmr deallocate";
  }
  return "?";
}

std::uint64_t trace_data::events() const {
  std::uint64_t n = 0;
  for (const thread_stream& s : threads) n += std::max<std::uint64_t>(s.events.size(), s.event_count);
  return n;
}

namespace {

// A bounds-checked cursor: every read names the offset where the file ran out.
class cursor {
 public:
  cursor(const std::uint8_t* p, std::size_t n, const std::string& name) : p_(p), n_(n), name_(name) {}
  std::size_t offset() const { return at_; }
  std::size_t left() const { return n_ - at_; }
  [[noreturn]] void fail(std::size_t offset, const std::string& reason) const { throw trace_error(name_, offset, reason); }
  std::uint64_t fixed(int bytes, const char* what) {
    if (left() < std::size_t(bytes)) fail(at_, std::string("truncated: file ends inside ") + what);
    const std::uint64_t v = get_le(p_ + at_, bytes);
    at_ += std::size_t(bytes);
    return v;
  }
  std::uint64_t varint(std::size_t end, const char* what) {
    std::uint64_t v = 0;
    const std::size_t start = at_;
    for (int shift = 0;; shift += 7) {
      if (at_ >= end) fail(start, std::string("truncated ") + what);
      if (shift > 63) fail(start, std::string("overlong varint in ") + what);
      const std::uint8_t b = p_[at_++];
      v |= std::uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
  }
  const std::uint8_t* here() const { return p_ + at_; }
  void skip(std::size_t n) { at_ += n; }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t at_ = 0;
  const std::string& name_;
};

trace_header parse_header(cursor& c) {
  trace_header h;
  if (c.left() < 8 || std::memcmp(c.here(), kMagic, 8) != 0) {
    c.fail(0, "not an allocbench trace (no \"ABTRACE\" magic at the start)");
  }
  c.skip(8);
  h.version = std::uint16_t(c.fixed(2, "the header"));
  if (h.version > kVersion) {
    c.fail(8, "version " + std::to_string(h.version) + " is newer than this reader's " + std::to_string(kVersion));
  }
  if (h.version == 0) c.fail(8, "version 0 is not a version");
  const std::size_t header_bytes = c.fixed(2, "the header");
  h.pointer_width = std::uint8_t(c.fixed(1, "the header"));
  if (h.pointer_width != 4 && h.pointer_width != 8) {
    c.fail(12, "pointer width " + std::to_string(h.pointer_width) + " (must be 4 or 8)");
  }
  c.fixed(1, "the header");
  c.fixed(2, "the header");
  h.clock_hz = c.fixed(8, "the header");
  h.start_unix_ns = c.fixed(8, "the header");
  h.start_ticks = c.fixed(8, "the header");
  h.pid = std::uint32_t(c.fixed(4, "the header"));
  h.ppid = std::uint32_t(c.fixed(4, "the header"));
  const std::size_t program = c.fixed(2, "the header");
  if (header_bytes != kFixedHeaderBytes + program || program > kMaxProgramBytes) {
    c.fail(10, "header size " + std::to_string(header_bytes) + " does not match its program's " +
                   std::to_string(program) + " bytes");
  }
  if (c.left() < program) c.fail(c.offset(), "truncated: file ends inside the program name");
  h.program.assign(reinterpret_cast<const char*>(c.here()), program);
  c.skip(program);
  if (h.clock_hz == 0) c.fail(kClockHzOffset, "clock rate is 0 (the recording was never closed)");
  return h;
}

void parse_events(cursor& c, std::size_t end, std::uint32_t count, std::uint64_t base, std::uint16_t version,
                  thread_stream& s, bool keep) {
  std::uint64_t ticks = base, address = 0;
  // Version 1 had no kFlagTicks: its kinds took 5 bits and every event its time.
  const std::uint8_t kind_mask = version == 1 ? kKindMaskV1 : kKindMask;
  const std::uint8_t flag_mask = std::uint8_t(kFlagAlign | kFlagSize | kFlagNothrow);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = c.offset();
    if (at >= end) c.fail(at, "chunk ends after " + std::to_string(i) + " of its " + std::to_string(count) + " events");
    event e;
    const std::uint8_t op = *c.here();
    c.skip(1);
    const std::uint8_t kind = op & kind_mask;
    if (kind == 0 || kind > kLastKind) c.fail(at, "unknown event kind " + std::to_string(kind));
    e.kind = event_kind(kind);
    e.flags = op & flag_mask;
    if (version == 1 || (op & kFlagTicks) != 0) ticks += std::uint64_t(unzigzag(c.varint(end, "event time")));
    address += std::uint64_t(unzigzag(c.varint(end, "event address")));
    e.ticks = ticks;
    e.address = address;
    if (e.kind == event_kind::realloc) {
      e.new_address = address + std::uint64_t(unzigzag(c.varint(end, "realloc address")));
      address = e.new_address;
    }
    if (!is_free(e.kind) || (e.flags & kFlagSize) != 0) e.size = c.varint(end, "event size");
    if ((e.flags & kFlagAlign) != 0) {
      if (c.offset() >= end) c.fail(c.offset(), "truncated event alignment");
      e.align_log2 = *c.here();
      c.skip(1);
      if (e.align_log2 > 40) c.fail(c.offset() - 1, "alignment 2^" + std::to_string(e.align_log2) + " is impossible");
    }
    if (keep) s.events.push_back(e);
  }
  s.event_count += count;
  if (c.offset() != end) c.fail(c.offset(), "chunk has " + std::to_string(end - c.offset()) + " bytes after its last event");
}

}  // namespace

trace_data parse_trace(const std::uint8_t* bytes, std::size_t size, const std::string& name, bool keep_events) {
  cursor c(bytes, size, name);
  trace_data t;
  t.file_bytes = size;
  t.header = parse_header(c);
  std::map<std::uint32_t, thread_stream> threads;
  std::uint64_t events = 0, chunks = 0;
  for (;;) {
    const std::size_t at = c.offset();
    if (c.left() == 0) c.fail(at, "truncated: no end record (the recording was cut short)");
    const std::uint8_t tag = *c.here();
    if (tag == kEndTag) {
      if (c.left() >= kEndBytes && checksum(c.here(), 25) != get_le(c.here() + 25, 4)) {
        c.fail(at, "end record checksum mismatch (corrupted)");
      }
      c.skip(1);
      const std::uint64_t want_events = c.fixed(8, "the end record");
      const std::uint64_t want_chunks = c.fixed(8, "the end record");
      t.end_ticks = c.fixed(8, "the end record");
      c.fixed(4, "the end record");
      if (want_events != events || want_chunks != chunks) {
        c.fail(at, "end record counts " + std::to_string(want_events) + " events in " + std::to_string(want_chunks) +
                       " chunks, the file has " + std::to_string(events) + " in " + std::to_string(chunks));
      }
      if (c.left() != 0) c.fail(c.offset(), std::to_string(c.left()) + " bytes after the end record");
      break;
    }
    if (tag != kChunkTag) c.fail(at, "unknown record tag " + std::to_string(tag));
    c.skip(1);
    const std::uint32_t sum = std::uint32_t(c.fixed(4, "a chunk header"));
    const std::uint8_t* covered = c.here();
    const std::uint32_t thread = std::uint32_t(c.fixed(4, "a chunk header"));
    const std::uint32_t count = std::uint32_t(c.fixed(4, "a chunk header"));
    const std::size_t payload = c.fixed(4, "a chunk header");
    const std::uint64_t base = c.fixed(8, "a chunk header");
    if (c.left() < payload) {
      c.fail(c.offset(), "truncated: chunk of " + std::to_string(payload) + " bytes, " + std::to_string(c.left()) + " left");
    }
    if (checksum(covered, kChunkHeaderBytes - 5 + payload) != sum) c.fail(at, "chunk checksum mismatch (corrupted)");
    if (count > payload) c.fail(at, "chunk claims " + std::to_string(count) + " events in " + std::to_string(payload) + " bytes");
    thread_stream& s = threads[thread];
    s.thread = thread;
    parse_events(c, c.offset() + payload, count, base, t.header.version, s, keep_events);
    events += count;
    ++chunks;
  }
  for (auto& [id, s] : threads) t.threads.push_back(std::move(s));
  return t;
}

trace_data read_trace(const std::filesystem::path& path, bool keep_events) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw trace_error(path.string(), 0, std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    throw trace_error(path.string(), 0, "cannot stat");
  }
  const std::size_t size = std::size_t(st.st_size);
  if (size == 0) {
    close(fd);
    return parse_trace(nullptr, 0, path.string(), keep_events);
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) throw trace_error(path.string(), 0, "cannot map");
  try {
    trace_data t = parse_trace(static_cast<const std::uint8_t*>(map), size, path.string(), keep_events);
    munmap(map, size);
    return t;
  } catch (...) {
    munmap(map, size);
    throw;
  }
}

std::vector<std::uint8_t> encode_trace(const trace_data& t, std::size_t chunk_events) {
  std::vector<std::uint8_t> out(kFixedHeaderBytes + kMaxProgramBytes);
  header_fields h;
  h.pointer_width = t.header.pointer_width;
  h.clock_hz = t.header.clock_hz;
  h.start_unix_ns = t.header.start_unix_ns;
  h.start_ticks = t.header.start_ticks;
  h.pid = t.header.pid;
  h.ppid = t.header.ppid;
  h.program = t.header.program.data();
  h.program_bytes = t.header.program.size();
  out.resize(encode_header(out.data(), h));
  chunk_events = std::max<std::size_t>(1, chunk_events);
  std::vector<std::uint8_t> buffer(kChunkHeaderBytes + kMaxEventBytes * chunk_events);
  std::uint64_t chunks = 0, events = 0;
  for (const thread_stream& s : t.threads) {
    events += s.events.size();
    chunk_encoder enc(buffer.data(), buffer.size());
    auto flush = [&] {
      const std::size_t n = enc.finish(s.thread);
      out.insert(out.end(), enc.data(), enc.data() + n);
      enc.reset();
      ++chunks;
    };
    for (const event& e : s.events) {
      enc.add(e.kind, e.flags, e.ticks, e.address, e.new_address, e.size, e.align_log2);
      if (enc.events() == chunk_events) flush();
    }
    if (!enc.empty()) flush();
  }
  std::uint8_t end[kEndBytes];
  encode_end(end, events, chunks, t.end_ticks);
  out.insert(out.end(), end, end + kEndBytes);
  return out;
}

void write_trace(const std::filesystem::path& path, const trace_data& t, std::size_t chunk_events) {
  const std::vector<std::uint8_t> bytes = encode_trace(t, chunk_events);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) throw std::runtime_error(path.string() + ": cannot write the trace");
}

}  // namespace allocbench::trace
