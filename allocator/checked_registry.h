// The bookkeeping behind checked mode (allocator/invalid_free.h): every live block with the size and
// alignment it was allocated with, and a short quarantine of freed blocks.
//
// Why sharded by address, and at 64 KiB granularity: the engines carve a thread's blocks from spans
// and regions of their own, so blocks of one thread's spans land in the same few shards, and threads
// that do not share memory do not share a shard's lock or cache lines. No lock is shared by all
// threads. Each shard is an open-addressing table (linear probing, deletion by backward shift, no
// tombstones) of 16-byte entries, and a FIFO ring of the blocks it quarantines.
//
// Quarantine: a valid free marks the block quarantined, fills it (checked_block.h) and puts it at the
// ring's tail; only when it leaves at the head (more than kQuarantineBlocks, or kQuarantineBytes, in
// its shard) does the resource give it back to its engine. So a second free of a block soon after
// the first is a double free even if the program has allocated meanwhile (the address cannot have
// been handed out again), and the fill is checked on the way out. An entry is forgotten when its
// block leaves quarantine: the addresses remembered as freed are bounded by the quarantine.
//
// Memory: tables come from checked_metadata_resource() (new/delete unless a test sets another) and
// only grow on allocate. A shard that passes half full asks for growth; the next allocate, before it
// takes a block from the engine, grows it (prepare(): a bad_alloc there changes nothing). Insertion
// itself therefore finds room without allocating, except when more threads than a quarter of a
// shard's slots insert into that shard at once; then on_allocate grows it and may throw bad_alloc,
// and the caller undoes its engine allocation. deallocate never allocates.
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
  static constexpr std::size_t kShards = 128;
  static constexpr unsigned kShardGranuleShift = 16;  // 64 KiB windows of the address space
  static constexpr std::size_t kQuarantineBlocks = 16;          // per shard
  static constexpr std::size_t kQuarantineBytes = 256 * 1024;  // per shard (one larger block may wait alone)

  // What a free did: whether the caller must count it, and which blocks left quarantine for the
  // caller to give back to its engine (then call finish()).
  struct free_result {
    bool accepted = false;
    std::size_t evicted_count = 0;
    checked_block evicted[kQuarantineBlocks + 1];
    bool evicted_dirty[kQuarantineBlocks + 1];
  };

  // Takes each shard's first table: may throw bad_alloc.
  explicit checked_registry(std::string_view resource_kind);
  ~checked_registry();
  checked_registry(const checked_registry&) = delete;
  checked_registry& operator=(const checked_registry&) = delete;

  // Before the engine allocates: grows the shards that asked for it. May throw bad_alloc (nothing
  // changed). One relaxed load when nothing is pending.
  void prepare() {
    if (pending_growth_.load(std::memory_order_relaxed) != 0) [[unlikely]] grow_pending();
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
    report_dirty(r);
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

  // Blocks the tables remember now: live ones and quarantined ones (tests: the set stays bounded).
  std::size_t remembered() const noexcept;

  // Whether p is a live block (recorded, not freed). For a resource that must read the block's own
  // header before on_deallocate makes it visible to other threads' quarantine evictions (best_fit).
  bool is_live(const void* p) const noexcept;

  // After release(): nothing is live, nothing waits in quarantine.
  void clear() noexcept;

  std::string_view kind() const noexcept { return kind_; }

 private:
  struct entry {
    std::uintptr_t key;   // the block's address; 0 = empty slot
    std::uint64_t info;   // bytes (48 bits) | log2 alignment (6) | canary length (4) | quarantined (1)
  };

  struct alignas(64) shard {
    mutable std::atomic<bool> locked{false};
    bool growth_wanted = false;
    entry* slots = nullptr;
    std::size_t capacity = 0;  // a power of two
    std::size_t count = 0;
    std::size_t ring_head = 0;
    std::size_t ring_size = 0;
    std::size_t ring_bytes = 0;
    checked_block ring[kQuarantineBlocks];
  };

  // A spin lock: a shard is held for a probe and a fill, far shorter than a sleep.
  class shard_lock {
   public:
    explicit shard_lock(const shard& s) noexcept;
    ~shard_lock() { s_.locked.store(false, std::memory_order_release); }
    shard_lock(const shard_lock&) = delete;
    shard_lock& operator=(const shard_lock&) = delete;

   private:
    const shard& s_;
  };

  static std::size_t shard_of(const void* p) noexcept;
  static std::size_t home_slot(std::uintptr_t key, std::size_t capacity) noexcept;
  static entry* find(shard& s, std::uintptr_t key) noexcept;
  static void insert_slot(entry* slots, std::size_t capacity, entry e) noexcept;
  static void erase(shard& s, entry* e) noexcept;

  void grow_pending();
  // Grows s to twice `from` slots unless another thread did; false when s no longer needs it.
  void grow(shard& s, std::size_t from);
  void evict_oldest(shard& s, free_result& out) noexcept;
  void drain_shard(std::size_t s, free_result& out) noexcept;
  void report_dirty(const free_result& r);

  std::string_view kind_;
  std::pmr::memory_resource* meta_;
  std::atomic<std::uint32_t> pending_growth_{0};  // shards with growth_wanted
  shard shards_[kShards];
};

}  // namespace allocbench::detail
