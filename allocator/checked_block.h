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

// Sixteen bytes per store, the last store overlapping the one before it instead of a byte loop. Not
// std::memset: for a length known only to be <= kFillLimit GCC inlines `rep stos` there, whose
// start-up costs more than the whole fill of a small block.
inline void fill_freed(void* p, std::size_t bytes) noexcept {
  unsigned char* b = static_cast<unsigned char*>(p);
  const std::size_t n = fill_length(bytes);
#if defined(__SSE2__)
  if (n >= 16) [[likely]] {
    const __m128i v = _mm_set1_epi8(char(kFreedByte));
    for (std::size_t i = 0; i + 16 <= n; i += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(b + i), v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + n - 16), v);
    return;
  }
#endif
  for (std::size_t i = 0; i < n; ++i) b[i] = kFreedByte;
}

// Every byte of the fill compared, 64 per step with one branch (SSE2: four byte-wise compares
// AND-ed, one mask test), the last 16 overlapping: this runs once per block reused, on the checked path.
inline bool fill_intact(const void* p, std::size_t bytes) noexcept {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  const std::size_t n = fill_length(bytes);
#if defined(__SSE2__)
  if (n >= 16) [[likely]] {
    const __m128i v = _mm_set1_epi8(char(kFreedByte));
    const auto same = [&](std::size_t at) {
      return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + at)), v);
    };
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
      const __m128i all = _mm_and_si128(_mm_and_si128(same(i), same(i + 16)), _mm_and_si128(same(i + 32), same(i + 48)));
      if (_mm_movemask_epi8(all) != 0xffff) return false;
    }
    for (; i + 16 <= n; i += 16) {
      if (_mm_movemask_epi8(same(i)) != 0xffff) return false;
    }
    return _mm_movemask_epi8(same(n - 16)) == 0xffff;
  }
#endif
  unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(b[i] ^ kFreedByte);
  return diff == 0;
}

}  // namespace allocbench::detail
