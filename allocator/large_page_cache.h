// Freed large blocks of one shard of large_block_shards, kept whole (mapping and resident pages) for
// the next large request of about their length.
//
// Why: a large block that goes back to the kernel as it is freed costs the next one of its size an
// mmap and a page fault per page it touches, inside the timed allocate; a workload whose tensors come
// and go at a steady level (inference_kv) paid that on every large request. Kept here, a freed block
// serves the next request it fits with its pages already in.
//
// Bounded twice: at most kSlots mappings and at most `bound` bytes. What does not fit is handed back
// to the caller (put's `evicted`), oldest first, which unmaps it outside its lock. A request takes the
// smallest kept mapping of at least its length and at most a quarter more (take), so a kept block is
// never used for a request much smaller than itself.
//
// Not thread-safe: its shard's lock guards it. Nothing here allocates or throws.
#pragma once

#include <cstddef>

namespace allocbench::detail {

class large_page_cache {
 public:
  static constexpr std::size_t kSlots = 16;

  struct mapping {
    void* base = nullptr;
    std::size_t bytes = 0;
  };
  // What put() hands back to be unmapped: at most every slot and the block itself.
  struct evicted_list {
    mapping items[kSlots + 1];
    std::size_t count = 0;
  };

  explicit large_page_cache(std::size_t bound) noexcept : bound_(bound) {}

  // The best kept mapping for a block of `bytes` (whole pages), removed; {nullptr, 0} when none fits.
  mapping take(std::size_t bytes) noexcept {
    const std::size_t most = bytes + bytes / 4;
    std::size_t best = kSlots;
    for (std::size_t i = 0; i < count_; ++i) {
      const std::size_t b = slots_[i].bytes;
      if (b >= bytes && b <= most && (best == kSlots || b < slots_[best].bytes)) best = i;
    }
    if (best == kSlots) return {};
    return remove(best);
  }

  // Keeps `m`, handing back in `out` the oldest mappings that no longer fit the bounds (or `m` itself
  // when it alone is over the bound).
  void put(mapping m, evicted_list& out) noexcept {
    if (m.bytes > bound_) {
      out.items[out.count++] = m;
      return;
    }
    while (count_ == kSlots || bytes_ + m.bytes > bound_) out.items[out.count++] = remove(0);
    slots_[count_++] = m;
    bytes_ += m.bytes;
  }

  // Removes every kept mapping into `out`.
  void take_all(evicted_list& out) noexcept {
    while (count_ != 0) out.items[out.count++] = remove(count_ - 1);
  }

  std::size_t bytes() const noexcept { return bytes_; }
  std::size_t count() const noexcept { return count_; }
  std::size_t bound() const noexcept { return bound_; }

 private:
  // Slots stay in the order they were put (oldest first), so eviction takes slot 0.
  mapping remove(std::size_t i) noexcept {
    const mapping m = slots_[i];
    for (std::size_t j = i + 1; j < count_; ++j) slots_[j - 1] = slots_[j];
    --count_;
    bytes_ -= m.bytes;
    return m;
  }

  mapping slots_[kSlots];
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  const std::size_t bound_;
};

}  // namespace allocbench::detail
