// The bookkeeping behind checked mode (allocator/invalid_free.h): every live block with the size and
// alignment it was allocated with, and a short quarantine of freed blocks.
//
// Blocks: one 32-bit word per block in a direct-mapped index (checked_block_map.h), found from the
// address with no lock and no probe: its state (none, live, quarantined), requested size, log2
// alignment and canary length. A free moves its word from live to quarantined with one
// compare-and-swap, so that of two threads freeing one block at once exactly one succeeds and the
// other reports a double free.
//
// Quarantine: a valid free fills the block (checked_block.h) and puts it at the tail of the calling
// thread's quarantine shard, a FIFO ring; only when it leaves at the head (more than
// kQuarantineBlocks, or kQuarantineBytes, in that shard) does the resource give it back to its
// engine, and its word goes back to none. So a second free of a block soon after the first is a
// double free even if the program has allocated meanwhile (the address cannot have been handed out
// again), and the fill is checked on the way out. The addresses remembered as freed are bounded by
// the quarantines. Threads take shards round robin (a thread keeps its shard for every registry),
// so threads do not share a shard's spin lock or lines unless more than kShards run; a thread that
// exits leaves its blocks to the next thread given its shard (or to flush()).
//
// No lock is shared by all threads: the index is lock-free, and a shard's lock is its threads'.
//
// Memory: the index's nodes and windows come from checked_metadata_resource() (new/delete unless a
// test sets another) and only grow on allocate. prepare(), before the engine allocates, replaces the
// spares the index used (a bad_alloc there changes nothing), so that on_allocate finds room without
// allocating, except when several threads open new 64 KiB windows at once; then on_allocate
// allocates and may throw bad_alloc, and the caller undoes its engine allocation. deallocate never
// allocates.
//
// Reports (invalid_free.h) are made with no shard lock held, so a handler may throw or inspect the
// resource: an invalid free is reported before anything changed; an overflow is reported before the
// free is carried out (it is carried out when the handler returns); a write after free is reported
// after the block has gone back to the engine.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string_view>

#include "allocator/checked_block.h"
#include "allocator/checked_block_map.h"
#include "allocator/invalid_free.h"

namespace allocbench::detail {

// Where checked registries take their tables from; set_ returns the previous one (nullptr restores
// new/delete). A registry keeps the resource it was built with for its whole life.
std::pmr::memory_resource* checked_metadata_resource() noexcept;
std::pmr::memory_resource* set_checked_metadata_resource(std::pmr::memory_resource* r) noexcept;

// A block with the size and alignment it was allocated with.
// Trivial, so that a free_result costs nothing to set up on the checked path.
struct checked_block {
  void* p;
  std::size_t bytes;
  std::size_t alignment;
};

class checked_registry {
 public:
  static constexpr std::size_t kShards = 128;                  // quarantine shards
  static constexpr std::size_t kQuarantineBlocks = 16;         // per shard
  static constexpr std::size_t kQuarantineBytes = 256 * 1024;  // per shard (one larger block may wait alone)

  // What a free did: whether the caller must count it, and which blocks left quarantine for the
  // caller to give back to its engine (then call finish()).
  struct free_result {
    bool accepted = false;
    std::size_t evicted_count = 0;
    checked_block evicted[kQuarantineBlocks + 1];
    bool evicted_dirty[kQuarantineBlocks + 1];
  };

  // Takes the index's root and first spares: may throw bad_alloc. A freed block's first `fill_bytes`
  // (at most kFillLimit) are filled and checked (checked_block.h).
  explicit checked_registry(std::string_view resource_kind, std::size_t fill_bytes = kFillLimit);
  ~checked_registry();
  checked_registry(const checked_registry&) = delete;
  checked_registry& operator=(const checked_registry&) = delete;

  // Before the engine allocates: replaces the index's used spares. May throw bad_alloc (nothing
  // changed). One relaxed load when none was used.
  void prepare() {
    if (map_.spares_low()) [[unlikely]] map_.refill_spares();
  }

  // After the engine handed out p (`usable` bytes of room): records it and writes its canary. Throws
  // bad_alloc only in the rare case above; the caller then gives p back to its engine.
  void on_allocate(void* p, std::size_t bytes, std::size_t alignment, std::size_t usable);

  // Checks a free. An invalid one (foreign pointer, double free, size or alignment mismatch) is
  // reported and not accepted: the caller must ignore it. An overflow is reported, then accepted.
  // A valid free quarantines the block. Never allocates.
  void on_deallocate(void* p, std::size_t bytes, std::size_t alignment, free_result& out);

  // After an accepted free was counted: gives the evicted blocks to `engine_free(const checked_block&)`
  // and then reports those whose fill was overwritten.
  template <class EngineFree>
  void finish(const free_result& r, EngineFree&& engine_free) {
    for (std::size_t i = 0; i < r.evicted_count; ++i) engine_free(r.evicted[i]);
    for (std::size_t i = 0; i < r.evicted_count; ++i) {
      if (r.evicted_dirty[i]) [[unlikely]] return report_dirty(r);
    }
  }

  // Empties every quarantine into `engine_free`, then reports overwritten fills (shard by shard).
  template <class EngineFree>
  void flush(EngineFree&& engine_free) {
    for (std::size_t s = 0; s < kShards; ++s) {
      free_result r;
      drain_shard(s, r);
      finish(r, engine_free);
    }
  }

  // Calls f(const checked_block&) for each quarantined block (stats: the caller counted them as live).
  template <class F>
  void for_each_quarantined(F&& f) const {
    for (std::size_t s = 0; s < kShards; ++s) {
      shard_lock lock(shards_[s]);
      const shard& sh = shards_[s];
      for (std::size_t i = 0; i < sh.ring_size; ++i) f(sh.ring[(sh.ring_head + i) % kQuarantineBlocks]);
    }
  }

  // Blocks the index remembers now: live ones and quarantined ones (tests: the set stays bounded).
  // Walks the whole index: no other thread may allocate meanwhile.
  std::size_t remembered() const noexcept;

  // Whether p is a live block (recorded, not freed). For a resource that must read the block's own
  // header before on_deallocate makes it visible to other threads' quarantine evictions (best_fit).
  bool is_live(const void* p) const noexcept;

  // After release(): nothing is live, nothing waits in quarantine. No other thread may use the
  // registry meanwhile.
  void clear() noexcept;

  std::string_view kind() const noexcept { return kind_; }

 private:
  struct alignas(64) shard {
    mutable std::atomic<bool> locked{false};
    std::size_t ring_head = 0;
    std::size_t ring_size = 0;
    std::size_t ring_bytes = 0;
    checked_block ring[kQuarantineBlocks];
    std::atomic<std::uint32_t>* ring_word[kQuarantineBlocks];  // each block's word in the index
  };

  // A spin lock: a shard is held for a ring push and an eviction, far shorter than a sleep.
  class shard_lock {
   public:
    // Uncontended (the common case: a thread's own shard) it is one exchange, inline.
    explicit shard_lock(const shard& s) noexcept : s_(s) {
      if (s.locked.exchange(true, std::memory_order_acquire)) [[unlikely]] wait();
    }
    ~shard_lock() { s_.locked.store(false, std::memory_order_release); }
    shard_lock(const shard_lock&) = delete;
    shard_lock& operator=(const shard_lock&) = delete;

   private:
    [[gnu::noinline]] void wait() noexcept;
    const shard& s_;
  };

  // The calling thread's quarantine shard.
  static std::size_t thread_shard() noexcept;

  void evict_oldest(shard& s, free_result& out) noexcept;
  void drain_shard(std::size_t s, free_result& out) noexcept;
  void report_dirty(const free_result& r);

  std::string_view kind_;
  std::size_t fill_bytes_;
  checked_block_map map_;
  shard shards_[kShards];
};

}  // namespace allocbench::detail
