// Writes a trace header (layout in trace_format.h) into a caller's buffer: no allocation, so the
// LD_PRELOAD recorder can use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "trace/trace_format.h"

namespace allocbench::trace {

struct header_fields {
  std::uint8_t pointer_width = sizeof(void*);
  std::uint64_t clock_hz = 0;  // 0 until the recording closes
  std::uint64_t start_unix_ns = 0;
  std::uint64_t start_ticks = 0;
  std::uint32_t pid = 0, ppid = 0;
  const char* program = "";
  std::size_t program_bytes = 0;  // cut to kMaxProgramBytes
};

// `out` holds at least kFixedHeaderBytes + kMaxProgramBytes; returns the header's size.
inline std::size_t encode_header(std::uint8_t* out, const header_fields& h) {
  const std::size_t program = h.program_bytes < kMaxProgramBytes ? h.program_bytes : kMaxProgramBytes;
  std::memcpy(out, kMagic, 8);
  put_le(out + 8, kVersion, 2);
  put_le(out + 10, kFixedHeaderBytes + program, 2);
  out[12] = h.pointer_width;
  out[13] = 0;
  put_le(out + 14, 0, 2);
  put_le(out + kClockHzOffset, h.clock_hz, 8);
  put_le(out + 24, h.start_unix_ns, 8);
  put_le(out + 32, h.start_ticks, 8);
  put_le(out + 40, h.pid, 4);
  put_le(out + 44, h.ppid, 4);
  put_le(out + 48, program, 2);
  if (program != 0) std::memcpy(out + kFixedHeaderBytes, h.program, program);
  return kFixedHeaderBytes + program;
}

// The end record (trace_format.h) into `out` (kEndBytes).
inline void encode_end(std::uint8_t* out, std::uint64_t events, std::uint64_t chunks, std::uint64_t end_ticks) {
  out[0] = kEndTag;
  put_le(out + 1, events, 8);
  put_le(out + 9, chunks, 8);
  put_le(out + 17, end_ticks, 8);
  put_le(out + 25, checksum(out, 25), 4);
}

}  // namespace allocbench::trace
