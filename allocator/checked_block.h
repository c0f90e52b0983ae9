// The bytes checked mode (allocator/checked_registry.h) writes into and beside a block:
// - a canary right after the requested end, checked at free: a write past the end changes it;
// - a fill pattern over a freed block, checked when the block leaves quarantine to be reused: a write
//   into the freed block changes it.
//
// The canary takes what room the block has after the requested bytes, up to kCanaryBytes; resources
// that can add room ask for bytes + kCanaryBytes, so that a canary always fits. Only the first
// kFillLimit bytes of a freed block are filled and checked: the cost of a free stays bounded for large
// blocks, and a stray write through a dangling pointer usually lands near the start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace allocbench::detail {

inline constexpr std::size_t kCanaryBytes = 8;
inline constexpr std::size_t kFillLimit = 4096;
inline constexpr unsigned char kCanaryByte = 0xCB;
inline constexpr unsigned char kFreedByte = 0xDF;

// How many canary bytes fit after `bytes` in a block of `usable` bytes.
inline std::size_t canary_length(std::size_t bytes, std::size_t usable) noexcept {
  const std::size_t room = usable > bytes ? usable - bytes : 0;
  return room < kCanaryBytes ? room : kCanaryBytes;
}

inline constexpr std::uint64_t kCanaryWord = 0x0101010101010101ull * kCanaryByte;

// A full canary (the common case: the class has the room) is one unaligned 8-byte store or load.
inline void write_canary(void* p, std::size_t bytes, std::size_t length) noexcept {
  unsigned char* c = static_cast<unsigned char*>(p) + bytes;
  if (length == kCanaryBytes) [[likely]] {
    std::memcpy(c, &kCanaryWord, kCanaryBytes);
    return;
  }
  std::memset(c, kCanaryByte, length);
}

inline bool canary_intact(const void* p, std::size_t bytes, std::size_t length) noexcept {
  const unsigned char* c = static_cast<const unsigned char*>(p) + bytes;
  if (length == kCanaryBytes) [[likely]] {
    std::uint64_t w;
    std::memcpy(&w, c, kCanaryBytes);
    return w == kCanaryWord;
  }
  for (std::size_t i = 0; i < length; ++i) {
    if (c[i] != kCanaryByte) return false;
  }
  return true;
}

inline std::size_t fill_length(std::size_t bytes) noexcept { return bytes < kFillLimit ? bytes : kFillLimit; }

// Sixteen bytes per store. Not std::memset: for a length known only to be <= kFillLimit GCC inlines
// `rep stos` there, whose start-up costs more than the whole fill of a small block.
inline void fill_freed(void* p, std::size_t bytes) noexcept {
  unsigned char* b = static_cast<unsigned char*>(p);
  const std::size_t n = fill_length(bytes);
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i v = _mm_set1_epi8(char(kFreedByte));
  for (; i + 16 <= n; i += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(b + i), v);
#endif
  for (; i < n; ++i) b[i] = kFreedByte;
}

// 32 bytes per step with one branch (the differences are OR-ed): this runs once per block reused, on
// the checked path.
inline bool fill_intact(const void* p, std::size_t bytes) noexcept {
  constexpr std::uint64_t kWord = 0x0101010101010101ull * kFreedByte;
  const unsigned char* b = static_cast<const unsigned char*>(p);
  const std::size_t n = fill_length(bytes);
  const auto word = [&](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, b + at, 8);
    return w ^ kWord;
  };
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    if ((word(i) | word(i + 8) | word(i + 16) | word(i + 24)) != 0) return false;
  }
  std::uint64_t diff = 0;
  for (; i + 8 <= n; i += 8) diff |= word(i);
  for (; i < n; ++i) diff |= b[i] ^ kFreedByte;
  return diff == 0;
}

}  // namespace allocbench::detail
