// Validation and arithmetic shared by every resource's allocate path: the pmr contract's rules on
// alignment and impossible sizes live here once.
#pragma once

#include <cstddef>
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

// a + b, or bad_alloc where it overflows.
inline std::size_t add_or_throw(std::size_t a, std::size_t b) {
  if (a > static_cast<std::size_t>(-1) - b) [[unlikely]] throw std::bad_alloc();
  return a + b;
}

}  // namespace allocbench::detail
