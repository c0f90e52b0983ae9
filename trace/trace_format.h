// The allocbench trace format (.abt): what a recorded program allocated and freed, per thread.
//
// A file is a header, then chunks, then an end record; every integer is little-endian.
//
//   header   "ABTRACE\0"      8 bytes of magic
//            u16 version      kVersion (a reader rejects a newer one)
//            u16 header_bytes the header's whole size, program included
//            u8  pointer_width bytes per address in the recorded process (8 on x86-64)
//            u8  flags        0
//            u16 reserved     0
//            u64 clock_hz     timestamp ticks per second (measured over the recording)
//            u64 start_unix_ns wall-clock date of the recording's start
//            u64 start_ticks  the timestamp at that moment
//            u32 pid, u32 ppid
//            u16 program_bytes, then the command line (arguments separated by spaces)
//   chunk    u8 tag = 1, u32 checksum (of everything after it up to the chunk's end), u32 thread,
//            u32 events, u32 payload_bytes, u64 base_ticks, then payload_bytes of events. Each chunk
//            holds events of one thread, in its order; chunks of different threads interleave in the
//            order they were written.
//   end      u8 tag = 2, u64 events, u64 chunks, u64 end_ticks, u32 checksum (of the 25 bytes before
//            it): the totals a reader checks, so a file cut short anywhere is detected.
//
// An event is an op byte, then varints (LEB128; "signed" ones zigzag-coded):
//   op byte         kind (low 4 bits, event_kind) | kFlagTicks | kFlagAlign | kFlagSize | kFlagNothrow
//   with kFlagTicks: signed varint, this event's clock reading minus the previous reading in this chunk
//                   (the first: minus base_ticks). Without it the event carries no reading of its own:
//                   its ticks are the previous reading's (the first event's: base_ticks).
//   signed varint   address minus the previous event's address in this chunk (the first: minus 0);
//                   for a realloc the old address. Addresses are the identity of blocks: a reader
//                   turns them into block ids (block_resolver.h).
//   realloc only:   signed varint new address minus old address (0 when it failed: not recorded)
//   allocations and realloc: varint size in bytes (calloc: count x size)
//   frees with kFlagSize: varint size (sized delete, pmr deallocate)
//   with kFlagAlign: u8 log2 of the alignment asked for
// So a small malloc or free takes 3 to 9 bytes.
//
// How exact the times are: the LD_PRELOAD recorder reads the clock on one event in kClockEvery
// (record/recorder.cc) of each thread, since reading it costs more than the rest of recording an
// event; an event without a reading happened between its ticks and its thread's next reading. The
// block resolver orders events whose windows overlap by what their addresses allow
// (block_resolver.h). recording_resource stamps every event.
//
// Version 1 (still read): the kind took the low 5 bits and every event carried its time varint, as
// if kFlagTicks were always set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace allocbench::trace {

inline constexpr char kMagic[8] = {'A', 'B', 'T', 'R', 'A', 'C', 'E', '\0'};
inline constexpr std::uint16_t kVersion = 2;
inline constexpr std::size_t kFixedHeaderBytes = 50;  // up to and including program_bytes
inline constexpr std::size_t kClockHzOffset = 16;     // patched when a recording closes
inline constexpr std::size_t kMaxProgramBytes = 4096;
inline constexpr std::uint8_t kChunkTag = 1;
inline constexpr std::uint8_t kEndTag = 2;
inline constexpr std::size_t kChunkHeaderBytes = 1 + 4 + 4 + 4 + 8 + 4;
inline constexpr std::size_t kEndBytes = 1 + 8 + 8 + 8 + 4;
// The longest event: op, three 10-byte varints, a size varint, an alignment byte.
inline constexpr std::size_t kMaxEventBytes = 1 + 10 + 10 + 10 + 10 + 1;

enum class event_kind : std::uint8_t {
  malloc = 1,
  calloc,
  realloc,
  free,
  posix_memalign,
  aligned_alloc,
  memalign,
  valloc,
  pvalloc,
  op_new,           // operator new (kFlagAlign: the align_val_t form; kFlagNothrow: nothrow)
  op_new_array,     // operator new[]
  op_delete,        // operator delete (kFlagSize: sized; kFlagAlign: aligned)
  op_delete_array,  // operator delete[]
  pmr_allocate,     // recording_resource: allocate(bytes, alignment)
  pmr_deallocate,   // recording_resource: deallocate(p, bytes, alignment)
};
inline constexpr std::uint8_t kLastKind = std::uint8_t(event_kind::pmr_deallocate);
inline constexpr std::uint8_t kKindMask = 0x0f;
inline constexpr std::uint8_t kKindMaskV1 = 0x1f;
inline constexpr std::uint8_t kFlagTicks = 0x10;  // the event carries a clock reading (version 2)
static_assert(kLastKind <= kKindMask, "every kind fits below kFlagTicks");
inline constexpr std::uint8_t kFlagAlign = 0x20;
inline constexpr std::uint8_t kFlagSize = 0x40;
inline constexpr std::uint8_t kFlagNothrow = 0x80;

constexpr bool is_free(event_kind k) {
  return k == event_kind::free || k == event_kind::op_delete || k == event_kind::op_delete_array ||
         k == event_kind::pmr_deallocate;
}
constexpr bool is_allocation(event_kind k) { return !is_free(k) && k != event_kind::realloc; }
const char* kind_name(event_kind k);

// Little-endian stores and loads (memcpy: the buffers are unaligned).
inline void put_le(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = std::uint8_t(v >> (8 * i));
}
inline std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}

inline std::uint8_t* put_varint(std::uint8_t* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = std::uint8_t(v | 0x80);
    v >>= 7;
  }
  *p++ = std::uint8_t(v);
  return p;
}
inline std::uint64_t zigzag(std::int64_t v) { return (std::uint64_t(v) << 1) ^ std::uint64_t(v >> 63); }
inline std::int64_t unzigzag(std::uint64_t v) { return std::int64_t(v >> 1) ^ -std::int64_t(v & 1); }

// The chunk checksum: 64-bit multiply-xor over 8-byte words, folded to 32 bits. Not cryptographic;
// it catches flipped and overwritten bytes at a fraction of a nanosecond per event.
inline std::uint32_t checksum(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 32;
  return std::uint32_t(h);
}

}  // namespace allocbench::trace
