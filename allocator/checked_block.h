// The bytes checked mode (allocator/checked_registry.h) writes into and beside a block:
// - a canary right after the requested end, checked at free: a write past the end changes it;
// - a fill pattern over a freed block, checked when the block leaves quarantine to be reused: a write
//   into the freed block changes it.
//
// The canary takes what room the block has after the requested bytes, up to kCanaryBytes; resources
// that can add room ask for bytes + kCanaryBytes, so that a canary always fits. Only a freed block's
// first bytes are filled and checked, up to a bound the resource passes (at most kFillLimit): the
// cost of a free stays bounded for large blocks. The registry's resources fill up to kFillLimit;
// scalable's checked mode, meant to be left on, fills its checked_fill_bytes (32 by default: a free
// then touches only the lines it reads anyway, see README "Checked mode").
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
inline constexpr std::size_t kDefaultCheckedFillBytes = 32;  // scalable's checked_fill_bytes
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

inline std::size_t fill_length(std::size_t bytes, std::size_t limit) noexcept { return bytes < limit ? bytes : limit; }

// A freed block's fill, in 16-byte stores without a loop for blocks up to 64 bytes: the stores for
// [0, n) are at 0 and n - 16 (and 16 and n - 32 from 32 bytes on), overlapping where n is not a
// multiple of 16, and larger blocks take 64 bytes per step with a last, overlapping step at n - 64.
// So the number of stores, and of branches, barely depends on the size (rl_small's six random sizes
// made the old one-store-per-step loop exit unpredictably). Not std::memset: for a length known only
// to be <= kFillLimit GCC inlines `rep stos` there, whose start-up costs more than a small block's fill.
[[gnu::always_inline]] inline void fill_freed(void* p, std::size_t bytes, std::size_t limit = kFillLimit) noexcept {
  unsigned char* b = static_cast<unsigned char*>(p);
  const std::size_t n = fill_length(bytes, limit);
#if defined(__SSE2__)
  if (n >= 16) [[likely]] {
    const __m128i v = _mm_set1_epi8(char(kFreedByte));
    const auto put = [&](std::size_t at) { _mm_storeu_si128(reinterpret_cast<__m128i*>(b + at), v); };
    if (n >= 64) {
      for (std::size_t i = 0; i + 64 <= n; i += 64) put(i), put(i + 16), put(i + 32), put(i + 48);
      put(n - 64), put(n - 48), put(n - 32), put(n - 16);
      return;
    }
    put(0), put(n - 16);
    if (n > 32) put(16), put(n - 32);
    return;
  }
#endif
  for (std::size_t i = 0; i < n; ++i) b[i] = kFreedByte;
}

// Every byte of the fill compared, in the same steps as fill_freed: the 16-byte compares AND-ed and
// one mask test per 64 bytes (SSE2). This runs once per block leaving quarantine, with the bound its
// fill had.
[[gnu::always_inline]] inline bool fill_intact(const void* p, std::size_t bytes, std::size_t limit = kFillLimit) noexcept {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  const std::size_t n = fill_length(bytes, limit);
#if defined(__SSE2__)
  if (n >= 16) [[likely]] {
    const __m128i v = _mm_set1_epi8(char(kFreedByte));
    const auto same = [&](std::size_t at) {
      return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + at)), v);
    };
    const auto four = [&](std::size_t a, std::size_t b2, std::size_t c, std::size_t d) {
      return _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(same(a), same(b2)), _mm_and_si128(same(c), same(d)))) == 0xffff;
    };
    if (n >= 64) {
      for (std::size_t i = 0; i + 64 <= n; i += 64) {
        if (!four(i, i + 16, i + 32, i + 48)) return false;
      }
      return four(n - 64, n - 48, n - 32, n - 16);
    }
    // Below 32 bytes the middle two compares repeat the outer two.
    return n > 32 ? four(0, 16, n - 32, n - 16) : four(0, n - 16, 0, n - 16);
  }
#endif
  unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(b[i] ^ kFreedByte);
  return diff == 0;
}

}  // namespace allocbench::detail
