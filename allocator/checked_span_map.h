// Which spans a checked scalable_resource holds, by address: how its free tells a block of its own
// from a wild pointer before it reads any header (allocator/checked_header.h).
//
// Spans are power-of-two sized and aligned, and at least 4 KiB (the smallest span_bytes scalable
// accepts), so a span covers whole 4 KiB granules: the map keeps one word per granule, found from the
// address through a three-level radix directory (like a page map) with fixed shifts. The word is the span's start with the tag
// it was recorded with (its size class + 1) in the low bits; 0 means no span of ours.
//
// Spans are recorded by checked_span_recorder, the upstream through which the engine fetches them:
// a span is in the map before any block of it is handed out, and leaves it after the engine gave it
// back, so a pointer the map accepts lies in memory the resource holds.
//
// Threads: a lookup is three acquire loads with no lock. Nodes are published with a compare-and-swap
// and stay until the map is destroyed; they come from checked_metadata_resource() (a failure to grow
// makes the span fetch throw bad_alloc, with nothing changed: see checked_span_recorder).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace allocbench::detail {

class checked_span_map {
 public:
  // Every span is a multiple of kGranule bytes (scalable's smallest span_bytes) and aligned to it.
  static constexpr unsigned kGranuleShift = 12;
  static constexpr std::size_t kGranule = std::size_t(1) << kGranuleShift;

  explicit checked_span_map(std::pmr::memory_resource& meta) noexcept : meta_(&meta) {}
  ~checked_span_map();
  checked_span_map(const checked_span_map&) = delete;
  checked_span_map& operator=(const checked_span_map&) = delete;

  // The word for p's granule: span start | tag, or 0. Three dependent loads from fixed offsets.
  std::uintptr_t find(const void* p) const noexcept {
    const std::uintptr_t key = reinterpret_cast<std::uintptr_t>(p) >> kGranuleShift;
    if ((key >> (3 * kLevelBits)) != 0) [[unlikely]] return 0;
    const mid_node* mid = root_[key >> (2 * kLevelBits)].load(std::memory_order_acquire);
    if (mid == nullptr) [[unlikely]] return 0;
    const leaf_node* leaf = mid->child[(key >> kLevelBits) & kLevelMask].load(std::memory_order_acquire);
    if (leaf == nullptr) [[unlikely]] return 0;
    return leaf->word[key & kLevelMask].load(std::memory_order_acquire);
  }

  // Records [span, span + bytes) with `tag` (below kGranule). May throw bad_alloc (nothing recorded).
  void record(void* span, std::size_t bytes, std::uintptr_t tag);
  // Forgets it again.
  void erase(void* span, std::size_t bytes) noexcept;

 private:
  // 48-bit user-space addresses (x86-64 and AArch64 with 4-level page tables): 36 bits of granule
  // number, 12 per level; each node is 32 KiB.
  static constexpr unsigned kLevelBits = 12;
  static constexpr std::uintptr_t kLevelMask = (std::uintptr_t(1) << kLevelBits) - 1;
  struct leaf_node {
    std::atomic<std::uintptr_t> word[std::size_t(1) << kLevelBits];
  };
  struct mid_node {
    std::atomic<leaf_node*> child[std::size_t(1) << kLevelBits];
  };

  // The word of granule `key`, made (with its nodes) when missing. Throws bad_alloc.
  std::atomic<std::uintptr_t>& slot(std::uintptr_t key);
  void set(void* span, std::size_t bytes, std::uintptr_t value) noexcept;

  std::pmr::memory_resource* meta_;
  std::atomic<mid_node*> root_[std::size_t(1) << kLevelBits] = {};
};

// The upstream a checked scalable_resource gives one size class: fetches spans from `upstream` and
// records them in `map` with the class's tag. A map that cannot grow gives the span back and throws
// bad_alloc, which the engine's refill passes on with nothing changed.
class checked_span_recorder final : public std::pmr::memory_resource {
 public:
  checked_span_recorder() = default;
  void attach(checked_span_map& map, std::pmr::memory_resource& upstream, std::uintptr_t tag) noexcept {
    map_ = &map;
    upstream_ = &upstream;
    tag_ = tag;
  }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  checked_span_map* map_ = nullptr;
  std::pmr::memory_resource* upstream_ = nullptr;
  std::uintptr_t tag_ = 0;
};

}  // namespace allocbench::detail
