// Building trace events in tests.
#pragma once

#include <cstdint>

#include "trace/trace_file.h"

namespace allocbench::trace::testing {

inline event make_event(std::uint64_t ticks, event_kind kind, std::uint64_t address, std::uint64_t size = 0,
                        std::uint64_t new_address = 0, std::uint8_t flags = 0, std::uint8_t align_log2 = 0) {
  event e;
  e.ticks = ticks;
  e.kind = kind;
  e.address = address;
  e.size = size;
  e.new_address = new_address;
  e.flags = flags;
  e.align_log2 = align_log2;
  return e;
}

}  // namespace allocbench::trace::testing
