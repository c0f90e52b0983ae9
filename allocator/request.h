// Validation and arithmetic shared by every resource's allocate path: the pmr contract's rules on
// alignment and impossible sizes live here once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

namespace allocbench::detail {

// The largest alignment every resource honours from its own memory; larger ones are documented per
// resource (forwarded to upstream or rejected).
inline constexpr std::size_t kMaxHonouredAlignment = 4096;

constexpr bool is_power_of_two(std::size_t x) noexcept { return x != 0 && (x & (x - 1)) == 0; }

// A non-power-of-two alignment is a caller bug, not an out-of-memory condition.
inline void validate_alignment(std::size_t alignment) {
  if (!is_power_of_two(alignment)) [[unlikely]] {
    throw std::invalid_argument("allocbench: alignment " + std::to_string(alignment) +
                                " is not a power of two");
  }
}

// Rounds up to a multiple of a power-of-two alignment; throws bad_alloc where that overflows.
inline std::size_t round_up_or_throw(std::size_t size, std::size_t alignment) {
  const std::size_t mask = alignment - 1;
  if (size > static_cast<std::size_t>(-1) - mask) [[unlikely]] throw std::bad_alloc();
  return (size + mask) & ~mask;
}

constexpr std::size_t round_up(std::size_t size, std::size_t alignment) noexcept {
  return (size + alignment - 1) & ~(alignment - 1);
}

// The most any resource asks an upstream for, padding for the alignment included. No object may be
// larger than PTRDIFF_MAX (glibc's malloc refuses more), and an upstream may not check for itself:
// libstdc++ 12's aligned operator new (behind new_delete_resource()) rounds size + alignment - 1,
// wraps past SIZE_MAX and hands out a tiny block for a request near SIZE_MAX.
inline constexpr std::size_t kMaxUpstreamRequest = std::size_t(PTRDIFF_MAX);

// Throws bad_alloc unless an upstream can honour (bytes, alignment) without its own arithmetic
// wrapping. Every path that forwards a request to an upstream calls it first, with the bytes it will
// ask for (the caller's size plus its own headers and rounding).
inline void check_upstream_request(std::size_t bytes, std::size_t alignment) {
  if (bytes > kMaxUpstreamRequest || alignment > kMaxUpstreamRequest - bytes) [[unlikely]] {
    throw std::bad_alloc();
  }
}

// a + b, or bad_alloc where it overflows.
inline std::size_t add_or_throw(std::size_t a, std::size_t b) {
  if (a > static_cast<std::size_t>(-1) - b) [[unlikely]] throw std::bad_alloc();
  return a + b;
}

}  // namespace allocbench::detail
