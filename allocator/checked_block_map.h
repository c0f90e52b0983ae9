// The address index behind checked mode (allocator/checked_registry.h): one 32-bit word per 8-byte
// granule of every 64 KiB window of the address space that has held a checked block, found from
// the address alone (a three-level radix directory, then the granule's offset in its window).
//
// Why direct-mapped instead of a hashed table: a block's word is at a fixed place, so a free reads
// it with no probe and no compare of keys, and blocks carved side by side from one span share the
// cache lines of their words (a hashed table scatters them, and its probes missed the cache on most
// frees). Blocks are at least 8-byte aligned and at least 8 bytes apart, so no two share a granule.
// A window costs 32 KiB when its first block is recorded (half the window; a hashed entry cost 16
// bytes per live block at load 1/2, so 64-byte blocks cost the same either way), and is kept until
// the map is destroyed.
//
// Threads: nodes and windows are published with a compare-and-swap into their parent and never move
// or go away while the map lives, so a lookup is plain acquire loads with no lock. A word is changed
// by the thread that owns its block at that moment (checked_registry says who, and uses a CAS where
// two threads could race).
//
// Memory: nodes and windows come from the resource given at construction. One spare of each kind is
// kept so that recording a block in a window not seen before does not allocate: refill_spares()
// (before the engine allocates; may throw bad_alloc) replaces the spares used since. Only when
// several threads open new windows at once do they run out; then window_for() allocates (and may
// throw bad_alloc, the registry's caller then undoes its allocation).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>

namespace allocbench::detail {

class checked_block_map {
 public:
  static constexpr unsigned kGranuleShift = 3;
  static constexpr unsigned kWindowShift = 16;
  static constexpr std::size_t kWindowWords = std::size_t(1) << (kWindowShift - kGranuleShift);
  // Addresses up to 2^48 (x86-64 and AArch64 user space with 4-level page tables).
  static constexpr unsigned kAddressBits = 48;

  struct window {
    // The size of the one block of 1 MiB or more that may start in this window (a block that large
    // covers the rest of the window, so at most one starts here); its word says to look here.
    std::atomic<std::uint64_t> big_bytes;
    std::atomic<std::uint32_t> words[kWindowWords];
  };

  // Takes the root and the first spares from `meta`: may throw bad_alloc.
  explicit checked_block_map(std::pmr::memory_resource& meta);
  ~checked_block_map();
  checked_block_map(const checked_block_map&) = delete;
  checked_block_map& operator=(const checked_block_map&) = delete;

  static std::size_t word_index(std::uintptr_t p) noexcept {
    return std::size_t(p >> kGranuleShift) & (kWindowWords - 1);
  }

  // The window holding p's word, or nullptr when no block was ever recorded near p. Lock-free.
  window* find(std::uintptr_t p) const noexcept {
    if ((p >> kAddressBits) != 0) [[unlikely]] return nullptr;
    auto* mid = static_cast<node*>(root_->child[index(p, 0)].load(std::memory_order_acquire));
    if (mid == nullptr) [[unlikely]] return nullptr;
    auto* leaf = static_cast<node*>(mid->child[index(p, 1)].load(std::memory_order_acquire));
    if (leaf == nullptr) [[unlikely]] return nullptr;
    return static_cast<window*>(leaf->child[index(p, 2)].load(std::memory_order_acquire));
  }

  // The window for p, made from a spare (or allocated: see the header) when missing. Throws
  // bad_alloc when it cannot be made, or when p is beyond kAddressBits.
  window* window_for(std::uintptr_t p);

  // Whether a spare was used since the last refill (one relaxed load).
  bool spares_low() const noexcept { return spares_low_.load(std::memory_order_relaxed); }
  // Replaces used spares; may throw bad_alloc (then the map is as it was, less the spares missing).
  void refill_spares();

  // Calls f(window&) for every window made so far. No other thread may add windows meanwhile.
  template <class F>
  void for_each_window(F&& f) const {
    walk([&](void* w) { f(*static_cast<window*>(w)); }, [](node*) {});
  }

 private:
  // The 32 bits of a window number, split 10 + 11 + 11 ... kept as three levels of 2048 (the root
  // uses its first 1024).
  static constexpr unsigned kLevelBits = 11;
  static constexpr std::size_t kFanout = std::size_t(1) << kLevelBits;
  struct node {
    std::atomic<void*> child[kFanout];
  };

  static std::size_t index(std::uintptr_t p, int level) noexcept {
    const unsigned shift = kWindowShift + kLevelBits * unsigned(2 - level);
    return std::size_t(p >> shift) & (kFanout - 1);
  }

  // Calls on_window(void*) for each window, and on_node_done(node*) for each leaf and mid node once
  // its children have been visited (the destructor frees them there).
  template <class OnWindow, class OnNodeDone>
  void walk(OnWindow&& on_window, OnNodeDone&& on_node_done) const {
    for (std::size_t a = 0; a < kFanout; ++a) {
      auto* mid = static_cast<node*>(root_->child[a].load(std::memory_order_acquire));
      if (mid == nullptr) continue;
      for (std::size_t b = 0; b < kFanout; ++b) {
        auto* leaf = static_cast<node*>(mid->child[b].load(std::memory_order_acquire));
        if (leaf == nullptr) continue;
        for (std::size_t c = 0; c < kFanout; ++c) {
          if (void* w = leaf->child[c].load(std::memory_order_acquire)) on_window(w);
        }
        on_node_done(leaf);
      }
      on_node_done(mid);
    }
  }

  node* new_node();
  window* new_window();
  void delete_node(node* n) noexcept;
  void delete_window(window* w) noexcept;
  // child[i] of `parent`, made from the spare (or allocated) when missing.
  node* child_node(node& parent, std::size_t i);

  std::pmr::memory_resource& meta_;
  node* root_;
  std::atomic<node*> spare_node_[2];  // a new window may need a new mid node and a new leaf
  std::atomic<window*> spare_window_;
  std::atomic<bool> spares_low_{false};
};

}  // namespace allocbench::detail
