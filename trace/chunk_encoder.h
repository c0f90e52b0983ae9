// Encodes one thread's events into a chunk (trace_format.h) in a buffer the caller owns. It allocates
// nothing, so the LD_PRELOAD recorder can use it inside malloc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trace/trace_format.h"

namespace allocbench::trace {

class chunk_encoder {
 public:
  // `buffer` of `bytes` (> kChunkHeaderBytes + kMaxEventBytes) holds the chunk header and events.
  chunk_encoder(std::uint8_t* buffer, std::size_t bytes) : begin_(buffer), end_(buffer + bytes) { reset(); }

  bool empty() const { return events_ == 0; }
  bool has_room() const { return std::size_t(end_ - cur_) >= kMaxEventBytes; }
  std::uint32_t events() const { return events_; }
  // The ticks of the last event added (meaningful when !empty()).
  std::uint64_t last_ticks() const { return prev_ticks_; }

  // The caller checks has_room() first. `new_address` and `size` are used as the kind needs them.
  // An event whose `ticks` equal the previous event's (last_ticks(): the recorder did not read the
  // clock for it) is written without a time.
  void add(event_kind kind, std::uint8_t flags, std::uint64_t ticks, std::uint64_t address,
           std::uint64_t new_address, std::uint64_t size, std::uint8_t align_log2) {
    if (events_ == 0) prev_ticks_ = base_ticks_ = ticks;
    std::uint8_t* op = cur_;
    std::uint8_t* p = cur_ + 1;
    std::uint8_t code = std::uint8_t(kind) | flags;
    if (ticks != prev_ticks_) {
      code |= kFlagTicks;
      p = put_varint(p, zigzag(std::int64_t(ticks - prev_ticks_)));
      prev_ticks_ = ticks;
    }
    *op = code;
    p = put_varint(p, zigzag(std::int64_t(address - prev_address_)));
    prev_address_ = address;
    if (kind == event_kind::realloc) {
      p = put_varint(p, zigzag(std::int64_t(new_address - address)));
      prev_address_ = new_address;
    }
    if (!is_free(kind) || (flags & kFlagSize) != 0) p = put_varint(p, size);
    if ((flags & kFlagAlign) != 0) *p++ = align_log2;
    cur_ = p;
    ++events_;
  }

  // Fills in the chunk header; the chunk is [data(), data() + finish(thread)). Then call reset().
  std::size_t finish(std::uint32_t thread) {
    const std::size_t payload = std::size_t(cur_ - (begin_ + kChunkHeaderBytes));
    std::uint8_t* h = begin_;
    h[0] = kChunkTag;
    put_le(h + 5, thread, 4);
    put_le(h + 9, events_, 4);
    put_le(h + 13, payload, 4);
    put_le(h + 17, base_ticks_, 8);
    put_le(h + 1, checksum(h + 5, kChunkHeaderBytes - 5 + payload), 4);
    return kChunkHeaderBytes + payload;
  }
  const std::uint8_t* data() const { return begin_; }

  void reset() {
    cur_ = begin_ + kChunkHeaderBytes;
    events_ = 0;
    prev_address_ = 0;
  }

 private:
  std::uint8_t* begin_;
  std::uint8_t* end_;
  std::uint8_t* cur_ = nullptr;
  std::uint32_t events_ = 0;
  std::uint64_t base_ticks_ = 0, prev_ticks_ = 0, prev_address_ = 0;
};

}  // namespace allocbench::trace
