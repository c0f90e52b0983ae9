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

inline void write_canary(void* p, std::size_t bytes, std::size_t length) noexcept {
  std::memset(static_cast<unsigned char*>(p) + bytes, kCanaryByte, length);
}

inline bool canary_intact(const void* p, std::size_t bytes, std::size_t length) noexcept {
  const unsigned char* c = static_cast<const unsigned char*>(p) + bytes;
  for (std::size_t i = 0; i < length; ++i) {
    if (c[i] != kCanaryByte) return false;
  }
  return true;
}

inline std::size_t fill_length(std::size_t bytes) noexcept { return bytes < kFillLimit ? bytes : kFillLimit; }

inline void fill_freed(void* p, std::size_t bytes) noexcept { std::memset(p, kFreedByte, fill_length(bytes)); }

// Eight bytes at a time: this runs once per block reused, on the checked path.
inline bool fill_intact(const void* p, std::size_t bytes) noexcept {
  constexpr std::uint64_t kWord = 0x0101010101010101ull * kFreedByte;
  const unsigned char* b = static_cast<const unsigned char*>(p);
  const std::size_t n = fill_length(bytes);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, b + i, 8);
    if (w != kWord) return false;
  }
  for (; i < n; ++i) {
    if (b[i] != kFreedByte) return false;
  }
  return true;
}

}  // namespace allocbench::detail
