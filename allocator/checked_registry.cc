#include "allocator/checked_registry.h"

#include <bit>
#include <new>
#include <thread>

namespace allocbench::detail {
namespace {

std::atomic<std::pmr::memory_resource*> g_metadata{nullptr};

constexpr std::size_t kFirstCapacity = 64;  // slots per shard at first: room for 16 concurrent inserts
constexpr std::uint64_t kBytesMask = (std::uint64_t(1) << 48) - 1;
constexpr unsigned kAlignShift = 48;
constexpr unsigned kCanaryShift = 54;
constexpr std::uint64_t kQuarantined = std::uint64_t(1) << 58;
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;

std::uint64_t pack(std::size_t bytes, std::size_t alignment, std::size_t canary) noexcept {
  return (std::uint64_t(bytes) & kBytesMask) | (std::uint64_t(std::countr_zero(alignment)) << kAlignShift) |
         (std::uint64_t(canary) << kCanaryShift);
}
std::size_t bytes_of(std::uint64_t info) noexcept { return std::size_t(info & kBytesMask); }
std::size_t alignment_of(std::uint64_t info) noexcept { return std::size_t(1) << ((info >> kAlignShift) & 63); }
std::size_t canary_of(std::uint64_t info) noexcept { return std::size_t((info >> kCanaryShift) & 15); }

}  // namespace

std::pmr::memory_resource* checked_metadata_resource() noexcept {
  std::pmr::memory_resource* r = g_metadata.load(std::memory_order_acquire);
  return r != nullptr ? r : std::pmr::new_delete_resource();
}

std::pmr::memory_resource* set_checked_metadata_resource(std::pmr::memory_resource* r) noexcept {
  return g_metadata.exchange(r, std::memory_order_acq_rel);
}

checked_registry::shard_lock::shard_lock(const shard& s) noexcept : s_(s) {
  for (unsigned spins = 0;; ++spins) {
    if (!s.locked.load(std::memory_order_relaxed) && !s.locked.exchange(true, std::memory_order_acquire)) return;
    if (spins >= 64) std::this_thread::yield();  // the holder was preempted (more threads than cores)
  }
}

checked_registry::checked_registry(std::string_view resource_kind)
    : kind_(resource_kind), meta_(checked_metadata_resource()) {
  std::size_t made = 0;
  try {
    for (; made < kShards; ++made) {
      shard& s = shards_[made];
      s.slots = static_cast<entry*>(meta_->allocate(kFirstCapacity * sizeof(entry), alignof(entry)));
      for (std::size_t i = 0; i < kFirstCapacity; ++i) s.slots[i] = entry{0, 0};
      s.capacity = kFirstCapacity;
    }
  } catch (...) {
    for (std::size_t i = 0; i < made; ++i) meta_->deallocate(shards_[i].slots, kFirstCapacity * sizeof(entry), alignof(entry));
    throw;
  }
}

checked_registry::~checked_registry() {
  for (shard& s : shards_) meta_->deallocate(s.slots, s.capacity * sizeof(entry), alignof(entry));
}

std::size_t checked_registry::shard_of(const void* p) noexcept {
  const std::uint64_t window = std::uint64_t(reinterpret_cast<std::uintptr_t>(p)) >> kShardGranuleShift;
  return std::size_t((window * kGolden) >> (64 - std::countr_zero(kShards)));
}

std::size_t checked_registry::home_slot(std::uintptr_t key, std::size_t capacity) noexcept {
  // Blocks are at least 8-byte aligned: drop those bits before mixing.
  return std::size_t(((std::uint64_t(key) >> 3) * kGolden) >> (64 - std::countr_zero(capacity)));
}

checked_registry::entry* checked_registry::find(shard& s, std::uintptr_t key) noexcept {
  const std::size_t mask = s.capacity - 1;
  for (std::size_t i = home_slot(key, s.capacity);; i = (i + 1) & mask) {
    entry& e = s.slots[i];
    if (e.key == key) return &e;
    if (e.key == 0) return nullptr;
  }
}

void checked_registry::insert_slot(entry* slots, std::size_t capacity, entry e) noexcept {
  const std::size_t mask = capacity - 1;
  for (std::size_t i = home_slot(e.key, capacity);; i = (i + 1) & mask) {
    if (slots[i].key == 0 || slots[i].key == e.key) {
      slots[i] = e;
      return;
    }
  }
}

void checked_registry::erase(shard& s, entry* gone) noexcept {
  // Backward shift: move later entries of the probe run into the hole while that keeps each entry
  // reachable from its home slot, so that no tombstone is needed.
  const std::size_t mask = s.capacity - 1;
  std::size_t hole = std::size_t(gone - s.slots);
  for (std::size_t i = (hole + 1) & mask; s.slots[i].key != 0; i = (i + 1) & mask) {
    const std::size_t home = home_slot(s.slots[i].key, s.capacity);
    // The entry at i may fill the hole when its home is not in (hole, i], cyclically.
    const bool home_after_hole = ((i - home) & mask) < ((i - hole) & mask);
    if (!home_after_hole) {
      s.slots[hole] = s.slots[i];
      hole = i;
    }
  }
  s.slots[hole] = entry{0, 0};
  --s.count;
}

void checked_registry::grow_pending() {
  for (shard& s : shards_) {
    std::size_t from;
    {
      shard_lock lock(s);
      if (!s.growth_wanted) continue;
      from = s.capacity;
    }
    grow(s, from);
  }
}

void checked_registry::grow(shard& s, std::size_t from) {
  const std::size_t to = from * 2;
  auto* fresh = static_cast<entry*>(meta_->allocate(to * sizeof(entry), alignof(entry)));  // may throw
  for (std::size_t i = 0; i < to; ++i) fresh[i] = entry{0, 0};
  entry* old = fresh;
  std::size_t old_capacity = to;
  {
    shard_lock lock(s);
    if (s.capacity == from) {
      for (std::size_t i = 0; i < from; ++i) {
        if (s.slots[i].key != 0) insert_slot(fresh, to, s.slots[i]);
      }
      old = s.slots;
      old_capacity = from;
      s.slots = fresh;
      s.capacity = to;
      if (s.growth_wanted) {
        s.growth_wanted = false;
        pending_growth_.fetch_sub(1, std::memory_order_relaxed);
      }
    }  // else another thread grew it first: ours is not needed
  }
  meta_->deallocate(old, old_capacity * sizeof(entry), alignof(entry));
}

void checked_registry::on_allocate(void* p, std::size_t bytes, std::size_t alignment, std::size_t usable) {
  const std::size_t canary = canary_length(bytes, usable);
  write_canary(p, bytes, canary);
  const entry e{reinterpret_cast<std::uintptr_t>(p), pack(bytes, alignment, canary)};
  shard& s = shards_[shard_of(p)];
  for (;;) {
    std::size_t full_at;
    {
      shard_lock lock(s);
      // Three quarters full: probes get long, and only concurrent inserts get here (see the header).
      if (s.count + 1 <= s.capacity / 4 * 3) {
        insert_slot(s.slots, s.capacity, e);
        ++s.count;
        if (s.count > s.capacity / 2 && !s.growth_wanted) {
          s.growth_wanted = true;
          pending_growth_.fetch_add(1, std::memory_order_relaxed);
        }
        return;
      }
      full_at = s.capacity;
    }
    grow(s, full_at);  // bad_alloc propagates; nothing recorded
  }
}

void checked_registry::on_deallocate(void* p, std::size_t bytes, std::size_t alignment, free_result& out) {
  out.accepted = false;
  out.evicted_count = 0;
  const auto key = reinterpret_cast<std::uintptr_t>(p);
  shard& s = shards_[shard_of(p)];
  invalid_free_kind fault;
  bool overflowed = false;
  for (;;) {
    {
      shard_lock lock(s);
      entry* e = key != 0 ? find(s, key) : nullptr;
      if (e == nullptr) {
        fault = invalid_free_kind::foreign_pointer;
      } else if (e->info & kQuarantined) {
        fault = invalid_free_kind::double_free;
      } else if (bytes_of(e->info) != bytes || alignment_of(e->info) != alignment) {
        fault = invalid_free_kind::size_mismatch;
      } else if (!overflowed && !canary_intact(p, bytes, canary_of(e->info))) {
        fault = invalid_free_kind::overflow;
      } else {
        e->info |= kQuarantined;
        fill_freed(p, bytes);
        if (s.ring_size == kQuarantineBlocks) evict_oldest(s, out);
        s.ring[(s.ring_head + s.ring_size) % kQuarantineBlocks] = checked_block{p, bytes, alignment};
        ++s.ring_size;
        s.ring_bytes += bytes;
        while (s.ring_bytes > kQuarantineBytes && s.ring_size > 1) evict_oldest(s, out);
        out.accepted = true;
        break;
      }
    }
    // No lock held: the handler may throw (nothing has changed) or return.
    report_invalid_free({fault, p, bytes, alignment, kind_});
    if (fault != invalid_free_kind::overflow) return;  // the free is ignored
    overflowed = true;  // the block is the caller's: free it once the overflow is reported
  }
  // Outside the lock: the evicted blocks are no longer in the table, so nobody else reads them.
  for (std::size_t i = 0; i < out.evicted_count; ++i) {
    out.evicted_dirty[i] = !fill_intact(out.evicted[i].p, out.evicted[i].bytes);
  }
}

void checked_registry::evict_oldest(shard& s, free_result& out) noexcept {
  const checked_block b = s.ring[s.ring_head];
  s.ring_head = (s.ring_head + 1) % kQuarantineBlocks;
  --s.ring_size;
  s.ring_bytes -= b.bytes;
  if (entry* e = find(s, reinterpret_cast<std::uintptr_t>(b.p))) erase(s, e);
  out.evicted[out.evicted_count++] = b;
}

void checked_registry::drain_shard(std::size_t index, free_result& out) noexcept {
  out.accepted = false;
  out.evicted_count = 0;
  shard& s = shards_[index];
  {
    shard_lock lock(s);
    while (s.ring_size > 0) evict_oldest(s, out);
  }
  for (std::size_t i = 0; i < out.evicted_count; ++i) {
    out.evicted_dirty[i] = !fill_intact(out.evicted[i].p, out.evicted[i].bytes);
  }
}

void checked_registry::report_dirty(const free_result& r) {
  for (std::size_t i = 0; i < r.evicted_count; ++i) {
    if (!r.evicted_dirty[i]) continue;
    const checked_block& b = r.evicted[i];
    report_invalid_free({invalid_free_kind::write_after_free, b.p, b.bytes, b.alignment, kind_});
  }
}

bool checked_registry::is_live(const void* p) const noexcept {
  const auto key = reinterpret_cast<std::uintptr_t>(p);
  if (key == 0) return false;
  shard& s = const_cast<shard&>(shards_[shard_of(p)]);
  shard_lock lock(s);
  const entry* e = find(s, key);
  return e != nullptr && !(e->info & kQuarantined);
}

std::size_t checked_registry::remembered() const noexcept {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    shard_lock lock(s);
    n += s.count;
  }
  return n;
}

void checked_registry::clear() noexcept {
  for (shard& s : shards_) {
    shard_lock lock(s);
    for (std::size_t i = 0; i < s.capacity; ++i) s.slots[i] = entry{0, 0};
    s.count = 0;
    s.ring_head = 0;
    s.ring_size = 0;
    s.ring_bytes = 0;
  }
}

}  // namespace allocbench::detail
