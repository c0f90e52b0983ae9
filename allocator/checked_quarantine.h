// Per-thread quarantines for scalable's checked mode: each thread that frees into a checked
// scalable_resource gets a FIFO ring of its own (a thread cache of this owner, through
// thread_cache_registry), so a checked free takes no lock at all. When a free fills the ring, its
// oldest half leaves at once (evicted): the resource checks their fills and gives them to the
// engine, whose thread cache may hand them out again. So a freed block waits for at least
// kEvictBatch and at most kBlocks - 1 later frees of that thread, and the per-block cost of leaving
// (a call, the ring's bookkeeping, the engine's per-call checks) is paid once per batch.
//
// Threads: only the owning thread pushes to its ring. Statistics read the rings from other threads
// (for_each_quarantined): the slots are atomics (relaxed), so a ring read while its owner frees may
// be one block off, like every figure read while threads run. A thread that exits gives its ring's
// blocks back (the owner's `give` callback, on the exiting thread); a ring of an owner being destroyed
// is dropped with its blocks (the engine gives every span back). A thread that can have no ring
// (more live resources than thread_cache_registry has slots, or a thread in the middle of exiting)
// uses one shared ring behind a mutex: a rare path, not the checked path of a normal thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "allocator/thread_cache_registry.h"

namespace allocbench::detail {

struct quarantined_block {
  void* p = nullptr;
  std::size_t bytes = 0;
};

class checked_quarantine_ring {
 public:
  static constexpr std::size_t kBlocks = 16;
  static constexpr std::size_t kEvictBatch = kBlocks / 2;

  // Puts b at the tail; true when that filled the ring (the caller then takes the oldest
  // kEvictBatch out with take_oldest before the next push).
  bool push(quarantined_block b) noexcept {
    const std::uint32_t n = size_.load(std::memory_order_relaxed);
    const std::uint32_t h = head_.load(std::memory_order_relaxed);
    put((h + n) % kBlocks, b);
    size_.store(n + 1, std::memory_order_relaxed);
    return n + 1 == kBlocks;
  }
  // Moves the oldest kEvictBatch blocks into out (the ring holds at least that many: push said full).
  void take_oldest(quarantined_block (&out)[kEvictBatch]) noexcept {
    const std::uint32_t h = head_.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < kEvictBatch; ++i) out[i] = get((h + i) % kBlocks);
    head_.store((h + kEvictBatch) % kBlocks, std::memory_order_relaxed);
    size_.store(size_.load(std::memory_order_relaxed) - kEvictBatch, std::memory_order_relaxed);
  }
  // Takes the oldest block out (p == nullptr: empty).
  quarantined_block pop() noexcept {
    const std::uint32_t n = size_.load(std::memory_order_relaxed);
    if (n == 0) return {};
    const std::uint32_t h = head_.load(std::memory_order_relaxed);
    const quarantined_block old = get(h);
    head_.store((h + 1) % kBlocks, std::memory_order_relaxed);
    size_.store(n - 1, std::memory_order_relaxed);
    return old;
  }
  void clear() noexcept {
    size_.store(0, std::memory_order_relaxed);
    head_.store(0, std::memory_order_relaxed);
  }
  template <class F>
  void for_each(F&& f) const {
    const std::uint32_t n = size_.load(std::memory_order_relaxed);
    const std::uint32_t h = head_.load(std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < n && i < kBlocks; ++i) f(get((h + i) % kBlocks));
  }

 private:
  void put(std::uint32_t i, quarantined_block b) noexcept {
    p_[i].store(b.p, std::memory_order_relaxed);
    bytes_[i].store(b.bytes, std::memory_order_relaxed);
  }
  quarantined_block get(std::uint32_t i) const noexcept {
    return {p_[i].load(std::memory_order_relaxed), bytes_[i].load(std::memory_order_relaxed)};
  }

  std::atomic<std::uint32_t> head_{0};
  std::atomic<std::uint32_t> size_{0};
  std::atomic<void*> p_[kBlocks] = {};
  std::atomic<std::size_t> bytes_[kBlocks] = {};
};

class checked_quarantines final : private thread_cache_owner {
 public:
  // Where a block goes when its thread exits with it in quarantine: the resource checks its fill and
  // gives it to the engine (must not throw).
  using give_fn = void (*)(void* context, quarantined_block b) noexcept;
  checked_quarantines(give_fn give, void* context) noexcept : give_(give), context_(context) {}
  ~checked_quarantines();

  // This thread's ring, nullptr when it can have none (then use shared() under shared_mutex()).
  checked_quarantine_ring* local() noexcept {
    try {
      return static_cast<checked_quarantine_ring*>(local_cache());
    } catch (...) {
      return nullptr;  // no memory for a ring: the shared one serves
    }
  }
  checked_quarantine_ring& shared() noexcept { return shared_; }
  std::mutex& shared_mutex() noexcept { return shared_mu_; }

  // Every block in every ring, for statistics; safe while the rings' threads run (see above).
  template <class F>
  void for_each_quarantined(F&& f) const {
    for_each_cache([&](void* c) { static_cast<const checked_quarantine_ring*>(c)->for_each(f); });
    std::lock_guard lock(shared_mu_);
    shared_.for_each(f);
  }
  // Forgets every block (release(): no other thread may use the resource meanwhile).
  void clear() noexcept;

 private:
  void* create_cache() override { return new checked_quarantine_ring(); }
  void destroy_cache(void* cache, bool thread_exit) noexcept override;

  give_fn give_;
  void* context_;
  mutable std::mutex shared_mu_;
  checked_quarantine_ring shared_;  // guarded by shared_mu_
};

}  // namespace allocbench::detail
