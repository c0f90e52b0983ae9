// Boundary tags: the header in front of every block of a best-fit region.
//
// A region is carved into physically adjacent blocks that tile it exactly. Each block starts with a
// block_tag recording its own size and its left neighbour's size, so that a free can reach both
// neighbours in O(1) and merge with the free ones (coalescing) without any search:
//
//   region: [region header][tag|payload......][tag|payload..][tag|payload.........]
//                           ^ prev_size = 0                    ^ flagged last
//
// Sizes include the tag and are multiples of kBlockGranule, so tags and payloads are 16-byte aligned
// whenever the first tag is. Invariant kept by the resource: no two adjacent blocks are both free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace allocbench::detail {

inline constexpr std::size_t kBlockGranule = 16;

struct block_tag {
  static constexpr std::size_t kFree = 1;  // the block is in the free index
  static constexpr std::size_t kLast = 2;  // the block ends its region: no right neighbour
  static constexpr std::size_t kFlagMask = kBlockGranule - 1;

  std::size_t prev_size;   // bytes of the left neighbour; 0 for the first block of a region
  std::size_t size_flags;  // bytes of this block, tag included, | flags

  std::size_t size() const noexcept { return size_flags & ~kFlagMask; }
  bool is_free() const noexcept { return (size_flags & kFree) != 0; }
  bool is_last() const noexcept { return (size_flags & kLast) != 0; }
  bool is_first() const noexcept { return prev_size == 0; }

  void set(std::size_t size, bool free, bool last) noexcept {
    size_flags = size | (free ? kFree : 0) | (last ? kLast : 0);
  }
  void set_free(bool free) noexcept { size_flags = (size_flags & ~kFree) | (free ? kFree : 0); }

  // Only where !is_last() / !is_first().
  block_tag* next() noexcept {
    return reinterpret_cast<block_tag*>(reinterpret_cast<std::byte*>(this) + size());
  }
  block_tag* prev() noexcept {
    return reinterpret_cast<block_tag*>(reinterpret_cast<std::byte*>(this) - prev_size);
  }

  std::byte* payload() noexcept { return reinterpret_cast<std::byte*>(this) + sizeof(block_tag); }
  static block_tag* from_payload(void* p) noexcept {
    return reinterpret_cast<block_tag*>(static_cast<std::byte*>(p) - sizeof(block_tag));
  }
  std::size_t payload_bytes() const noexcept { return size() - sizeof(block_tag); }
};

static_assert(sizeof(block_tag) == kBlockGranule);

// While a block is free its payload holds the links of its free-index list (free_block_index.h).
struct free_links {
  block_tag* prev;
  block_tag* next;
};

inline free_links& links_of(block_tag* b) noexcept {
  return *reinterpret_cast<free_links*>(b->payload());
}

// The smallest block: a tag plus room for the free links.
inline constexpr std::size_t kMinBlockBytes = sizeof(block_tag) + sizeof(free_links);

// Splits block `b` (not in the free index) at `offset` bytes from its start, a multiple of
// kBlockGranule with both parts at least kMinBlockBytes. The left part keeps b's address and stays
// marked used; the right part is returned, marked used, flagged last if b was. The caller decides
// what becomes of each part.
inline block_tag* split_block(block_tag* b, std::size_t offset) noexcept {
  const std::size_t total = b->size();
  const bool last = b->is_last();
  b->set(offset, false, false);
  block_tag* right = new (static_cast<void*>(b->next())) block_tag{offset, 0};
  right->set(total - offset, false, last);
  if (!last) right->next()->prev_size = total - offset;
  return right;
}

}  // namespace allocbench::detail
