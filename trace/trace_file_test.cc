// The .abt writer and reader: a known recording reads back exactly, and every damaged file is
// rejected with the offset and the reason.
#include "trace/trace_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "trace/header_codec.h"
#include "trace/testing/test_events.h"

namespace allocbench::trace {
namespace {

template <typename... A>
event ev(A... a) {
  return testing::make_event(a...);
}

// Three threads, every kind, realloc (growing, moving, to zero), clocks that step back, far addresses.
trace_data sample() {
  trace_data t;
  t.header.clock_hz = 2'600'000'000;
  t.header.start_unix_ns = 1'796'000'000'000'000'000;
  t.header.start_ticks = 1000;
  t.header.pid = 4242;
  t.header.ppid = 1;
  t.header.program = "python3 -c 'print(1)'";
  thread_stream a{0, {}, 0}, b{1, {}, 0}, c{7, {}, 0};
  a.events = {ev(1000, event_kind::malloc, 0x7f0000001000, 24),
              ev(1010, event_kind::calloc, 0x7f0000001040, 400),
              ev(1005, event_kind::realloc, 0x7f0000001000, 4000, 0x5500000000),
              ev(1020, event_kind::posix_memalign, 0x10000, 100, 0, kFlagAlign, 12),
              ev(1030, event_kind::op_new, 0x20, 8, 0, kFlagAlign | kFlagNothrow, 6),
              ev(1040, event_kind::op_delete, 0x20, 8, 0, kFlagSize | kFlagAlign, 6),
              ev(~0ull - 5, event_kind::free, 0x10000, 0),
              ev(1050, event_kind::realloc, 0x5500000000, 0, 0)};
  b.events = {ev(2000, event_kind::op_new_array, 0x900000, 1 << 20), ev(2001, event_kind::op_delete_array, 0x900000, 0)};
  // Exact times in the first half, then one reading per 16 events (trace_format.h), as the recorder writes.
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const std::uint64_t ticks = i < 5000 ? 3000 + i * 37 : 3000 + (i / 16) * 600;
    c.events.push_back(ev(ticks, i % 2 ? event_kind::free : event_kind::malloc, 0x1000 + (i / 2) * 64, i % 2 ? 0 : i % 500));
  }
  t.threads = {a, b, c};
  t.end_ticks = 999999;
  return t;
}

TEST(TraceFile, RoundTripIsExact) {
  const trace_data t = sample();
  for (std::size_t chunk : {1, 3, 4096}) {
    const std::vector<std::uint8_t> bytes = encode_trace(t, chunk);
    const trace_data back = parse_trace(bytes.data(), bytes.size(), "mem");
    EXPECT_EQ(back.header.program, t.header.program);
    EXPECT_EQ(back.header.pid, 4242u);
    EXPECT_EQ(back.header.clock_hz, t.header.clock_hz);
    EXPECT_EQ(back.header.start_unix_ns, t.header.start_unix_ns);
    EXPECT_EQ(back.header.pointer_width, sizeof(void*));
    EXPECT_EQ(back.end_ticks, t.end_ticks);
    ASSERT_EQ(back.threads.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(back.threads[i].thread, t.threads[i].thread);
      EXPECT_EQ(back.threads[i].events, t.threads[i].events) << "thread " << i << ", chunks of " << chunk;
    }
  }
}

TEST(TraceFile, SmallEventsTakeAtMostSixteenBytes) {
  const std::vector<std::uint8_t> bytes = encode_trace(sample());
  EXPECT_LT(double(bytes.size()) / double(sample().events()), 16.0);
}

TEST(TraceFile, WritesAndReadsAFile) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::filesystem::path p = std::filesystem::path(dir != nullptr ? dir : "/tmp") / "t.abt";
  write_trace(p, sample());
  EXPECT_EQ(read_trace(p).threads[2].events, sample().threads[2].events);
  const trace_data counted = read_trace(p, false);
  EXPECT_TRUE(counted.threads[2].events.empty());
  EXPECT_EQ(counted.events(), sample().events());
  EXPECT_THROW(read_trace(std::filesystem::path(dir != nullptr ? dir : "/tmp") / "missing.abt"), trace_error);
}

std::string error_of(const std::vector<std::uint8_t>& bytes, std::uint64_t* offset = nullptr) {
  try {
    parse_trace(bytes.data(), bytes.size(), "t.abt");
  } catch (const trace_error& e) {
    if (offset != nullptr) *offset = e.offset();
    return e.what();
  }
  return "";
}

TEST(TraceFile, EveryTruncationIsRejected) {
  const std::vector<std::uint8_t> whole = encode_trace(sample(), 100);
  for (std::size_t n = 0; n < whole.size(); n += (n < 200 ? 1 : 97)) {
    std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + std::ptrdiff_t(n));
    std::uint64_t offset = ~0ull;
    const std::string e = error_of(cut, &offset);
    ASSERT_FALSE(e.empty()) << "a file cut to " << n << " bytes was accepted";
    EXPECT_LE(offset, n) << e;
    EXPECT_EQ(e.rfind("t.abt: offset ", 0), 0u) << e;
  }
  std::vector<std::uint8_t> no_end(whole.begin(), whole.end() - std::ptrdiff_t(kEndBytes));
  EXPECT_NE(error_of(no_end).find("no end record"), std::string::npos) << error_of(no_end);
}

TEST(TraceFile, CorruptionIsRejected) {
  const std::vector<std::uint8_t> whole = encode_trace(sample(), 100);
  // Any flipped bit in the chunks (and the end record) is caught by a checksum, a count or a bound.
  for (std::size_t i = kFixedHeaderBytes + sample().header.program.size(); i < whole.size(); i += 13) {
    std::vector<std::uint8_t> bad = whole;
    bad[i] ^= 0x10;
    EXPECT_FALSE(error_of(bad).empty()) << "flipped byte " << i << " was accepted";
  }
  std::vector<std::uint8_t> bad = whole;
  bad[kFixedHeaderBytes + sample().header.program.size() + kChunkHeaderBytes + 3] ^= 0xff;
  EXPECT_NE(error_of(bad).find("checksum"), std::string::npos) << error_of(bad);
}

TEST(TraceFile, ForeignAndNewerFilesAreRejected) {
  const std::string text = "{\"name\": \"not a trace\"}";
  std::uint64_t offset = 99;
  EXPECT_NE(error_of(std::vector<std::uint8_t>(text.begin(), text.end()), &offset).find("not an allocbench trace"),
            std::string::npos);
  EXPECT_EQ(offset, 0u);
  std::vector<std::uint8_t> newer = encode_trace(sample());
  put_le(newer.data() + 8, kVersion + 1, 2);
  const std::string want = "version " + std::to_string(kVersion + 1) + " is newer than this reader's " + std::to_string(kVersion);
  EXPECT_NE(error_of(newer, &offset).find(want), std::string::npos) << error_of(newer);
  EXPECT_EQ(offset, 8u);
  std::vector<std::uint8_t> open = encode_trace(sample());
  put_le(open.data() + kClockHzOffset, 0, 8);
  EXPECT_NE(error_of(open).find("never closed"), std::string::npos);
  std::vector<std::uint8_t> width = encode_trace(sample());
  width[12] = 3;
  EXPECT_NE(error_of(width).find("pointer width 3"), std::string::npos);
  std::vector<std::uint8_t> trailing = encode_trace(sample());
  trailing.push_back(0);
  EXPECT_NE(error_of(trailing).find("after the end record"), std::string::npos);
}

// An event without a reading of its own costs no time bytes: a stream with one reading per 16
// events is smaller than the same stream stamped on every event.
TEST(TraceFile, EventsWithoutAReadingCarryNoTime) {
  trace_data exact, coarse;
  exact.header.clock_hz = coarse.header.clock_hz = 1'000'000'000;
  thread_stream e{0, {}, 0}, c{0, {}, 0};
  for (std::uint64_t i = 0; i < 1600; ++i) {
    e.events.push_back(ev(1000 + i * 50, event_kind::malloc, 0x1000 + i * 64, 32));
    c.events.push_back(ev(1000 + (i / 16) * 800, event_kind::malloc, 0x1000 + i * 64, 32));
  }
  exact.threads = {e};
  coarse.threads = {c};
  const std::size_t exact_bytes = encode_trace(exact).size(), coarse_bytes = encode_trace(coarse).size();
  // After the first event (no time in either), 1599 one-byte times (50 ticks) against 99 readings
  // of two bytes (800 ticks).
  EXPECT_EQ(exact_bytes - coarse_bytes, 1599u - 2 * 99u) << coarse_bytes << " against " << exact_bytes;
}

// A version 1 file (kinds in 5 bits, a time on every event) still reads: the shipped traces of
// testdata/traces before version 2 are of it.
TEST(TraceFile, ReadsVersionOne) {
  header_fields h;
  h.clock_hz = 1'000'000'000;
  std::vector<std::uint8_t> bytes(kFixedHeaderBytes + kMaxProgramBytes);
  bytes.resize(encode_header(bytes.data(), h));
  put_le(bytes.data() + 8, 1, 2);
  // One chunk of thread 3: malloc(24) at 0x20 (ticks 500), free of it (ticks 510).
  std::vector<std::uint8_t> chunk(kChunkHeaderBytes);
  chunk[0] = kChunkTag;
  put_le(chunk.data() + 5, 3, 4);
  put_le(chunk.data() + 9, 2, 4);
  put_le(chunk.data() + 17, 500, 8);
  const std::uint8_t events[] = {std::uint8_t(event_kind::malloc), 0, std::uint8_t(zigzag(0x20)), 24,
                                 std::uint8_t(event_kind::free), std::uint8_t(zigzag(10)), 0};
  chunk.insert(chunk.end(), events, events + sizeof events);
  put_le(chunk.data() + 13, sizeof events, 4);
  put_le(chunk.data() + 1, checksum(chunk.data() + 5, chunk.size() - 5), 4);
  bytes.insert(bytes.end(), chunk.begin(), chunk.end());
  std::uint8_t end[kEndBytes];
  encode_end(end, 2, 1, 600);
  bytes.insert(bytes.end(), end, end + kEndBytes);

  const trace_data t = parse_trace(bytes.data(), bytes.size(), "v1.abt");
  EXPECT_EQ(t.header.version, 1u);
  ASSERT_EQ(t.threads.size(), 1u);
  EXPECT_EQ(t.threads[0].thread, 3u);
  ASSERT_EQ(t.threads[0].events.size(), 2u);
  EXPECT_EQ(t.threads[0].events[0], ev(500, event_kind::malloc, 0x20, 24));
  EXPECT_EQ(t.threads[0].events[1], ev(510, event_kind::free, 0x20));
}

}  // namespace
}  // namespace allocbench::trace
