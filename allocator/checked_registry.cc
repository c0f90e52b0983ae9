#include "allocator/checked_registry.h"

#include <bit>
#include <new>
#include <thread>

namespace allocbench::detail {
namespace {

std::atomic<std::pmr::memory_resource*> g_metadata{nullptr};

// A block's word: state (2 bits) | canary length (4) | log2 alignment (6) | requested bytes (20).
// Bytes of kBigBytes or more are kept in the window's big_bytes (checked_block_map::window).
constexpr std::uint32_t kStateMask = 3;
constexpr std::uint32_t kLive = 1;
constexpr std::uint32_t kQuarantined = 2;
constexpr unsigned kCanaryShift = 2;
constexpr unsigned kAlignShift = 6;
constexpr unsigned kBytesShift = 12;
constexpr std::uint32_t kBigBytes = (std::uint32_t(1) << 20) - 1;

std::uint32_t pack(std::size_t bytes, std::size_t alignment, std::size_t canary) noexcept {
  const std::uint32_t b = bytes < kBigBytes ? std::uint32_t(bytes) : kBigBytes;
  return kLive | (std::uint32_t(canary) << kCanaryShift) | (std::uint32_t(std::countr_zero(alignment)) << kAlignShift) |
         (b << kBytesShift);
}
std::size_t canary_of(std::uint32_t w) noexcept { return (w >> kCanaryShift) & 15; }
std::size_t alignment_of(std::uint32_t w) noexcept { return std::size_t(1) << ((w >> kAlignShift) & 63); }
std::size_t bytes_of(std::uint32_t w, const checked_block_map::window& win) noexcept {
  const std::uint32_t b = w >> kBytesShift;
  return b != kBigBytes ? b : std::size_t(win.big_bytes.load(std::memory_order_relaxed));
}

std::atomic<std::size_t> g_next_thread_shard{0};
thread_local std::size_t tls_shard_plus_one = 0;  // 0: not given yet (constant-initialised, no guard)

}  // namespace

std::pmr::memory_resource* checked_metadata_resource() noexcept {
  std::pmr::memory_resource* r = g_metadata.load(std::memory_order_acquire);
  return r != nullptr ? r : std::pmr::new_delete_resource();
}

std::pmr::memory_resource* set_checked_metadata_resource(std::pmr::memory_resource* r) noexcept {
  return g_metadata.exchange(r, std::memory_order_acq_rel);
}

void checked_registry::shard_lock::wait() noexcept {
  for (unsigned spins = 0;; ++spins) {
    if (!s_.locked.load(std::memory_order_relaxed) && !s_.locked.exchange(true, std::memory_order_acquire)) return;
    if (spins >= 64) std::this_thread::yield();  // the holder was preempted (more threads than cores)
  }
}

checked_registry::checked_registry(std::string_view resource_kind, std::size_t fill_bytes)
    : kind_(resource_kind), fill_bytes_(fill_bytes < kFillLimit ? fill_bytes : kFillLimit), map_(*checked_metadata_resource()) {}

checked_registry::~checked_registry() = default;

std::size_t checked_registry::thread_shard() noexcept {
  std::size_t s = tls_shard_plus_one;
  if (s == 0) [[unlikely]] {
    s = g_next_thread_shard.fetch_add(1, std::memory_order_relaxed) % kShards + 1;
    tls_shard_plus_one = s;
  }
  return s - 1;
}

void checked_registry::on_allocate(void* p, std::size_t bytes, std::size_t alignment, std::size_t usable) {
  const auto key = reinterpret_cast<std::uintptr_t>(p);
  checked_block_map::window* w = map_.find(key);
  if (w == nullptr) [[unlikely]] w = map_.window_for(key);  // bad_alloc propagates; nothing recorded
  const std::size_t canary = canary_length(bytes, usable);
  write_canary(p, bytes, canary);
  if (bytes >= kBigBytes) [[unlikely]] w->big_bytes.store(bytes, std::memory_order_relaxed);
  // Release: a free on another thread that reads the word sees the canary and big_bytes.
  w->words[checked_block_map::word_index(key)].store(pack(bytes, alignment, canary), std::memory_order_release);
}

inline void checked_registry::evict_oldest(shard& s, free_result& out) noexcept {
  const checked_block b = s.ring[s.ring_head];
  // Forgotten before the block goes back to the engine, which may hand it out (and record it) again.
  s.ring_word[s.ring_head]->store(0, std::memory_order_release);
  s.ring_head = (s.ring_head + 1) % kQuarantineBlocks;
  --s.ring_size;
  s.ring_bytes -= b.bytes;
  out.evicted[out.evicted_count++] = b;
}

void checked_registry::on_deallocate(void* p, std::size_t bytes, std::size_t alignment, free_result& out) {
  out.accepted = false;
  out.evicted_count = 0;
  const auto key = reinterpret_cast<std::uintptr_t>(p);
  // Not 8-byte aligned: no block starts there (and its granule would be another block's).
  checked_block_map::window* w = (key & 7) == 0 ? map_.find(key) : nullptr;
  std::atomic<std::uint32_t>* word = w != nullptr ? &w->words[checked_block_map::word_index(key)] : nullptr;
  bool overflowed = false;
  for (;;) {
    std::uint32_t now = word != nullptr ? word->load(std::memory_order_acquire) : 0;
    invalid_free_kind fault;
    if ((now & kStateMask) == 0) {
      fault = invalid_free_kind::foreign_pointer;
    } else if ((now & kStateMask) == kQuarantined) {
      fault = invalid_free_kind::double_free;
    } else if (bytes_of(now, *w) != bytes || alignment_of(now) != alignment) {
      fault = invalid_free_kind::size_mismatch;
    } else if (!overflowed && !canary_intact(p, bytes, canary_of(now))) {
      fault = invalid_free_kind::overflow;
    } else {
      const std::uint32_t freed = (now & ~kStateMask) | kQuarantined;
      if (word->compare_exchange_strong(now, freed, std::memory_order_acq_rel)) break;
      continue;  // another thread freed it meanwhile: look again (a double free)
    }
    // Nothing changed: the handler may throw, or return.
    report_invalid_free({fault, p, bytes, alignment, kind_});
    if (fault != invalid_free_kind::overflow) return;  // the free is ignored
    overflowed = true;  // the block is the caller's: free it once the overflow is reported
  }
  fill_freed(p, bytes, fill_bytes_);
  shard& s = shards_[thread_shard()];
  {
    shard_lock lock(s);
    if (s.ring_size == kQuarantineBlocks) evict_oldest(s, out);
    const std::size_t tail = (s.ring_head + s.ring_size) % kQuarantineBlocks;
    s.ring[tail] = checked_block{p, bytes, alignment};
    s.ring_word[tail] = word;
    ++s.ring_size;
    s.ring_bytes += bytes;
    while (s.ring_bytes > kQuarantineBytes && s.ring_size > 1) evict_oldest(s, out);
  }
  out.accepted = true;
  // Outside the lock: the evicted blocks' words are none now, so nobody else reads them.
  for (std::size_t i = 0; i < out.evicted_count; ++i) {
    out.evicted_dirty[i] = !fill_intact(out.evicted[i].p, out.evicted[i].bytes, fill_bytes_);
  }
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
    out.evicted_dirty[i] = !fill_intact(out.evicted[i].p, out.evicted[i].bytes, fill_bytes_);
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
  const checked_block_map::window* w = (key & 7) == 0 ? map_.find(key) : nullptr;
  if (w == nullptr) return false;
  return (w->words[checked_block_map::word_index(key)].load(std::memory_order_acquire) & kStateMask) == kLive;
}

std::size_t checked_registry::remembered() const noexcept {
  std::size_t n = 0;
  map_.for_each_window([&](const checked_block_map::window& w) {
    for (const auto& word : w.words) n += (word.load(std::memory_order_relaxed) & kStateMask) != 0;
  });
  return n;
}

void checked_registry::clear() noexcept {
  map_.for_each_window([](checked_block_map::window& w) {
    for (auto& word : w.words) word.store(0, std::memory_order_relaxed);
  });
  for (shard& s : shards_) {
    shard_lock lock(s);
    s.ring_head = 0;
    s.ring_size = 0;
    s.ring_bytes = 0;
  }
}

}  // namespace allocbench::detail
