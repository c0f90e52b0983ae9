#include "allocator/size_class_map.h"

#include <bit>
#include <stdexcept>
#include <string>

#include "allocator/request.h"

namespace allocbench::detail {
namespace {

[[noreturn]] void bad_param(const std::string& what) {
  throw std::invalid_argument("size classes: " + what);
}

void check_sizes(const std::vector<std::size_t>& sizes) {
  if (sizes.empty()) bad_param("classes must not be empty");
  if (sizes.size() > size_class_map::kMaxClasses) {
    bad_param("at most " + std::to_string(size_class_map::kMaxClasses) + " classes, got " +
              std::to_string(sizes.size()));
  }
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::size_t s = sizes[i];
    if (s == 0 || s % size_class_map::kGranule != 0) {
      bad_param("class sizes must be positive multiples of 8, got " + std::to_string(s));
    }
    if (s > size_class_map::kMaxSmallLimit) {
      bad_param("class sizes must be at most " + std::to_string(size_class_map::kMaxSmallLimit) +
                ", got " + std::to_string(s));
    }
    if (i > 0 && s <= sizes[i - 1]) {
      bad_param("classes must be strictly ascending, got " + std::to_string(s) + " after " +
                std::to_string(sizes[i - 1]));
    }
  }
}

std::vector<std::size_t> generate(const size_class_params& p) {
  if (p.small_step == 0 || p.small_step % size_class_map::kGranule != 0) {
    bad_param("small_step must be a positive multiple of 8, got " + std::to_string(p.small_step));
  }
  if (p.small_step_limit < p.small_step) {
    bad_param("small_step_limit must be at least small_step, got " + std::to_string(p.small_step_limit));
  }
  if (p.classes_per_doubling == 0 || p.classes_per_doubling > 64) {
    bad_param("classes_per_doubling must be 1..64, got " + std::to_string(p.classes_per_doubling));
  }
  if (p.max_small < p.small_step || p.max_small % size_class_map::kGranule != 0 ||
      p.max_small > size_class_map::kMaxSmallLimit) {
    bad_param("max_small must be a multiple of 8 between small_step and " +
              std::to_string(size_class_map::kMaxSmallLimit) + ", got " + std::to_string(p.max_small));
  }
  std::vector<std::size_t> out;
  std::size_t v = 0;
  for (std::size_t s = p.small_step; s <= p.small_step_limit && s <= p.max_small; s += p.small_step) {
    out.push_back(v = s);
  }
  while (v < p.max_small) {
    // Steps of power/classes_per_doubling, kept on that grid (round_up) so that classes such as 192
    // or 768 stay multiples of large powers of two, which is what makes their blocks well aligned.
    const std::size_t power = std::bit_floor(v);
    std::size_t step = power / p.classes_per_doubling;
    step = step < size_class_map::kGranule ? size_class_map::kGranule : round_up(step, size_class_map::kGranule);
    const std::size_t next = round_up(v + 1, step);
    v = next < p.max_small ? next : p.max_small;
    out.push_back(v);
  }
  return out;
}

}  // namespace

std::vector<std::size_t> size_class_map::class_sizes(const size_class_params& params) {
  std::vector<std::size_t> sizes = params.classes.empty() ? generate(params) : params.classes;
  check_sizes(sizes);
  return sizes;
}

size_class_map::size_class_map(const size_class_params& params) {
  const std::vector<std::size_t> sizes = class_sizes(params);
  count_ = sizes.size();
  max_small_ = sizes.back();
  for (std::size_t c = 0; c < count_; ++c) {
    const std::size_t lowest_bit = sizes[c] & (~sizes[c] + 1);
    std::size_t alignment = lowest_bit < kMaxBlockAlignment ? lowest_bit : kMaxBlockAlignment;
    // A class such as 5120 aligned to its lowest bit (1024) would start its blocks at 4 offsets
    // modulo 4096 in every span, so the same field of every block (the header of each of sqlite's
    // 4368-byte pages) falls in the same few cache sets. Such classes keep only a cache line's
    // alignment, which lets span_arena start each span's blocks at a different line (its colour).
    if (lowest_bit != sizes[c] && alignment > kColouredAlignment) alignment = kColouredAlignment;
    alignment_[c] = alignment;
    size_[c] = sizes[c];
  }
  std::size_t c = 0;
  for (std::size_t i = 0; i <= max_small_ / kGranule; ++i) {
    while (sizes[c] < i * kGranule) ++c;
    table_[i] = std::uint8_t(c);
  }
}

std::size_t size_class_map::class_for(std::size_t bytes, std::size_t alignment) const noexcept {
  if (bytes > max_small_) return npos;
  for (std::size_t c = class_of(bytes); c < count_; ++c) {
    if (alignment_[c] >= alignment) return c;
  }
  return npos;
}

}  // namespace allocbench::detail
