// The size classes of scalable_resource and the lookup from a request to its class.
//
// Classes are multiples of 8 bytes, ascending, up to max_small (at most kMaxSmallLimit). They come
// either from an explicit list or from spacing parameters:
//   - small_step apart up to small_step_limit (16, 32, ..., 128 by default): requests this small are
//     common and a fixed step keeps their waste to at most small_step - 1 bytes;
//   - then classes_per_doubling classes per power of two (4 by default: 160, 192, 224, 256, 320, ...),
//     so that the usable/requested ratio of any request stays below 1 + 1/classes_per_doubling;
//   - max_small itself is always a class.
//
// A class's block alignment is the largest power of two dividing its size, capped at 4096 for a
// class that is a power of two and at 64 for any other: the spans that hold its blocks are aligned to
// at least that much (allocator/span_arena.h), so every block is. Multiples of 64 from 64 up are
// therefore 64-byte aligned, which lets 64-aligned requests land in classes that waste nothing for
// alignment. A larger alignment for a class such as 3072 or 5120 would put every block at one of a
// few offsets modulo 4096 (cache-set conflicts); requests aligned to more than 64 take the next
// power-of-two class instead.
//
// The lookup for requests that need no more alignment than their class gives is one table load,
// indexed by (bytes + 7) / 8: class_of(). class_for() handles any alignment by walking up from there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace allocbench::detail {

struct size_class_params {
  std::vector<std::size_t> classes;       // explicit class sizes; empty = generate from the rest
  std::size_t small_step = 16;            // multiple of 8, >= 8
  std::size_t small_step_limit = 128;     // fixed steps up to here (>= small_step)
  std::size_t classes_per_doubling = 4;   // 1 .. 64
  std::size_t max_small = 32 * 1024;      // the largest class; multiple of 8, <= kMaxSmallLimit
};

class size_class_map {
 public:
  static constexpr std::size_t kGranule = 8;
  static constexpr std::size_t kMaxSmallLimit = 64 * 1024;
  static constexpr std::size_t kMaxClasses = 128;
  static constexpr std::size_t kMaxBlockAlignment = 4096;
  // The most alignment a class that is not a power of two gets (a cache line).
  static constexpr std::size_t kColouredAlignment = 64;
  // What class_for returns when no class fits.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // Throws std::invalid_argument naming the parameter when one is out of range.
  explicit size_class_map(const size_class_params& params);

  // The class sizes the parameters describe (explicit list validated, or generated).
  static std::vector<std::size_t> class_sizes(const size_class_params& params);

  std::size_t count() const noexcept { return count_; }
  std::size_t max_small() const noexcept { return max_small_; }
  std::size_t size(std::size_t c) const noexcept { return size_[c]; }
  std::size_t alignment(std::size_t c) const noexcept { return alignment_[c]; }

  // The smallest class >= bytes, for bytes <= max_small(). One table load.
  std::size_t class_of(std::size_t bytes) const noexcept { return table_[(bytes + kGranule - 1) / kGranule]; }

  // The smallest class >= bytes whose blocks are aligned to `alignment` (a power of two), or npos.
  std::size_t class_for(std::size_t bytes, std::size_t alignment) const noexcept;

 private:
  // Arrays of 8-byte entries, so that the fast path indexes them with a scaled address, no shift.
  std::size_t count_ = 0;
  std::size_t max_small_ = 0;
  std::size_t alignment_[kMaxClasses] = {};
  std::size_t size_[kMaxClasses] = {};
  std::uint8_t table_[kMaxSmallLimit / kGranule + 1] = {};
};

}  // namespace allocbench::detail
