#include "allocator/free_block_index.h"

#include <bit>
#include <new>

namespace allocbench::detail {

std::size_t free_block_index::bin_of(std::size_t size) noexcept {
  const std::size_t granules = size / kBlockGranule;
  if (granules < kExactBins) return granules;
  // The octave's top bit picks the group; the next four bits pick one of its 16 sub-bins.
  const unsigned top = unsigned(std::bit_width(size)) - 1;  // >= 12
  const std::size_t sub = (size >> (top - 4)) & (kSubBins - 1);
  return kExactBins + (top - 12) * kSubBins + sub;
}

void free_block_index::clear() noexcept {
  heads_.fill(nullptr);
  bitmap_.fill(0);
  count_ = 0;
  bytes_ = 0;
}

void free_block_index::insert(block_tag* b) noexcept {
  const std::size_t size = b->size();
  const std::size_t bin = bin_of(size);
  // Find the first block not smaller than `b`: in an exact bin that is the head (all sizes equal).
  block_tag* prev = nullptr;
  block_tag* next = heads_[bin];
  if (bin >= kExactBins) {
    while (next != nullptr && next->size() < size) {
      prev = next;
      next = links_of(next).next;
    }
  }
  new (static_cast<void*>(b->payload())) free_links{prev, next};
  if (prev != nullptr) {
    links_of(prev).next = b;
  } else {
    heads_[bin] = b;
    mark(bin);
  }
  if (next != nullptr) links_of(next).prev = b;
  ++count_;
  bytes_ += size;
}

void free_block_index::erase(block_tag* b) noexcept {
  const free_links l = links_of(b);
  if (l.prev != nullptr) {
    links_of(l.prev).next = l.next;
  } else {
    const std::size_t bin = bin_of(b->size());
    heads_[bin] = l.next;
    if (l.next == nullptr) unmark(bin);
  }
  if (l.next != nullptr) links_of(l.next).prev = l.prev;
  --count_;
  bytes_ -= b->size();
}

std::size_t free_block_index::next_non_empty(std::size_t from) const noexcept {
  if (from >= kBins) return kBins;
  std::size_t word = from / 64;
  std::uint64_t bits = bitmap_[word] & (~std::uint64_t(0) << (from % 64));
  while (bits == 0) {
    if (++word == kWords) return kBins;
    bits = bitmap_[word];
  }
  return word * 64 + std::size_t(std::countr_zero(bits));
}

block_tag* free_block_index::best_fit(std::size_t bytes) const noexcept {
  const std::size_t bin = bin_of(bytes);
  // n's own bin may hold blocks smaller than n (a range bin, or an exact bin when n is not a multiple
  // of the granule): walk its sorted list to the first that fits.
  for (block_tag* b = heads_[bin]; b != nullptr; b = links_of(b).next) {
    if (b->size() >= bytes) return b;
  }
  const std::size_t next = next_non_empty(bin + 1);
  return next == kBins ? nullptr : heads_[next];
}

std::size_t free_block_index::largest() const noexcept {
  for (std::size_t word = kWords; word-- > 0;) {
    if (bitmap_[word] == 0) continue;
    const std::size_t bin = word * 64 + 63 - std::size_t(std::countl_zero(bitmap_[word]));
    std::size_t size = 0;
    for (block_tag* b = heads_[bin]; b != nullptr; b = links_of(b).next) size = b->size();
    return size;
  }
  return 0;
}

}  // namespace allocbench::detail
