// The engine of scalable_resource: size classes (size_class_map), a thread cache per thread
// (scalable_thread_cache, attached through thread_cache_owner), a central list per class
// (class_central_list, each with its own lock and its own spans from upstream), and sharded large
// blocks (large_block_shards). No lock is shared by all classes or all threads.
//
// This file holds the fast path: allocate and deallocate of a small block from the calling thread's
// cache, with the statistics counted in that cache. Everything else (validation errors, alignment
// beyond the class's, large blocks, empty or full lists, the first call of a thread, threads without
// a cache) is a named slow path in scalable_heap.cc.
//
// Frees from another thread: a block always goes into the freeing thread's own cache (blocks of a
// class are interchangeable), and from there back to the class's central list in batches. So a free
// never takes another thread's lock, and an actor/learner pair costs the learner one class lock per
// batch of frees.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <vector>

#include "allocator/asan_poison.h"
#include "allocator/class_central_list.h"
#include "allocator/fast_class_lookup.h"
#include "allocator/guarded_pages.h"
#include "allocator/large_block_shards.h"
#include "allocator/last_thread_cache.h"
#include "allocator/live_bytes_peak.h"
#include "allocator/scalable_thread_cache.h"
#include "allocator/size_class_map.h"
#include "allocator/stats_counters.h"
#include "allocator/thread_cache_registry.h"
#include "pmr/resource_stats.h"

namespace allocbench::detail {

inline constexpr std::size_t kMaxCentralShards = 64;
// Thread caches take shards round robin, so up to this many threads each carve spans of their own.
inline constexpr std::size_t kDefaultCentralShards = 16;
// What all threads' caches of one resource may hold together (the sum of their bounds): 16 threads'
// worth of the per-thread cap. Beyond that, a thread whose class grows takes allowance from one of its
// own idle classes or caches less; release_unused() gives idle threads' allowance back.
inline constexpr std::size_t kDefaultThreadCacheBudget = 8 * 1024 * 1024;

struct scalable_heap_config {
  size_class_params classes;
  std::size_t span_bytes = 64 * 1024;           // smallest span, a power of two
  std::size_t batch_bytes = 8 * 1024;           // a class moves about this many bytes per batch ...
  std::size_t max_batch = 32;                   // ... but at most this many blocks, and at least 2
  std::size_t class_cache_batches = 8;          // a thread caches at most this many batches per class
  // ... or up to this many, a batch more each time the thread's own use of the class runs its list
  // from empty to full (a full swing, scalable_thread_cache.h), in allowance that no other class
  // holds (past thread_cache_bytes, up to the thread's share of the budget); at most
  // class_cache_batches: no such growth.
  std::size_t class_burst_batches = 32;
  std::size_t thread_cache_bytes = 512 * 1024;  // and at most this many bytes over all classes
  std::size_t thread_cache_budget = kDefaultThreadCacheBudget;  // over all threads' caches together
  std::size_t central_shards = 0;               // shards of each central list; 0: kDefaultCentralShards
  bool fast_path = true;                        // off: every call takes the slow path (checked mode)
  // About one allocation in this many gets guard pages (allocator/guarded_pages.h); 0: none.
  std::size_t guarded_sample_rate = 0;
  // Where class c's spans come from: *class_upstreams[c] when set (one entry per class), else the
  // heap's upstream. The malloc front end (malloc/) gives each class a resource that records the
  // class of every span it hands out, which is how free(p) finds p's class without a size.
  std::pmr::memory_resource* const* class_upstreams = nullptr;
  // Otherwise, where every class's spans come from when set (a resource built without an upstream
  // of its own gives its os_span_source); else the heap's upstream.
  std::pmr::memory_resource* span_upstream = nullptr;
  // Large blocks (alignment up to a page) on mappings of their own, freed ones kept a while
  // (large_block_shards.h); off: every large block from the heap's upstream.
  bool large_own_pages = false;
  // Cache colouring of spans (span_arena.h); off where block starts are found from a fixed
  // first-block offset (checked mode's header path).
  bool colour_spans = true;
};

class scalable_heap final : private thread_cache_owner {
 public:
  // Throws std::invalid_argument naming the parameter when one is out of range.
  scalable_heap(const scalable_heap_config& config, std::pmr::memory_resource& upstream,
                stats_counters& counters);
  ~scalable_heap();

  // ---- Fast path. -------------------------------------------------------------------------------

  // A block from this thread's cache, or nullptr when only the slow path can serve the request.
  void* try_allocate(std::size_t bytes, std::size_t alignment) noexcept {
    // An allocation scope is open on this thread (the slow path reports to it), this thread last used
    // another resource (the slow path looks its cache up and remembers it), has no cache yet (its
    // first call: the slow path attaches one), or can have none (too many instances, or the thread is
    // exiting: the slow path uses the central list). One compare: see last_thread_cache::fast_id.
    if (load_fast_id() != id_) [[unlikely]] return nullptr;
    // Beyond the size table (larger small classes, large blocks, sizes near SIZE_MAX), or the fast
    // path is off (bound 0 in checked mode), or the heap samples (bound 0 too: its fast path is the
    // branch below, so that a heap that does not sample runs none of it).
    if (bytes >= fast_.bound()) [[unlikely]] return try_allocate_sampled(bytes, alignment);
    return pop_cached<false>(bytes, alignment);
  }

  // Puts a block into this thread's cache; false when only the slow path can take it.
  bool try_deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept {
    // A scope is open, or another resource's cache is this thread's last, or there is none: as above.
    if (load_fast_id() != id_) [[unlikely]] return false;
    // Beyond the size table, the fast path is off, or the heap samples (free_bound_ is 0 then; its
    // free path is the branch below).
    if (bytes >= free_bound_) [[unlikely]] return try_deallocate_sampled(p, bytes, alignment);
    return push_cached(p, bytes, alignment);
  }

  // The same per-thread paths for checked mode (pmr/scalable_resource.cc), whose heap has the fast
  // path off (bound 0) so that unchecked calls pay nothing for it: the table covers every size up to
  // kDirectLimit and max_small, whatever the bound.
  void* try_allocate_checked(std::size_t bytes, std::size_t alignment) noexcept {
    if (load_fast_id() != id_) [[unlikely]] return nullptr;
    if (bytes > table_limit_) [[unlikely]] return nullptr;
    // A checked heap that samples counts its allocations here too (a checked call is slow anyway).
    return guards_ != nullptr ? pop_cached<true>(bytes, alignment) : pop_cached<false>(bytes, alignment);
  }
  bool try_deallocate_checked(void* p, std::size_t bytes, std::size_t alignment) noexcept {
    if (load_fast_id() != id_) [[unlikely]] return false;
    if (bytes > table_limit_) [[unlikely]] return false;
    return push_cached(p, bytes, alignment);
  }

  // ---- Sampling (guarded_sample_rate > 0 only). -------------------------------------------------
  // A sampling heap's fast paths, in the cold branch of try_allocate and try_deallocate (after the
  // fast_id compare, which they share): the bounds there are 0 for such a heap and sample_bound_ is 0
  // for every other, so that a heap that does not sample pays nothing on its fast path and one
  // compare more on its way to the slow path.

  // One decrement of the thread's sample countdown more than the unsampled allocation; the
  // allocation that takes it below zero goes to the slow path, which takes the sample.
  [[gnu::always_inline]] void* try_allocate_sampled(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes >= sample_bound_) [[unlikely]] return nullptr;
    return pop_cached<true>(bytes, alignment);
  }
  // One range compare more than the unsampled free: a guarded block (its slot lies in the guard
  // reservation) goes to the slow path, which puts it in quarantine, never into a cache.
  [[gnu::always_inline]] bool try_deallocate_sampled(void* p, std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes >= sample_bound_) [[unlikely]] return false;
    if (reinterpret_cast<std::uintptr_t>(p) - guard_base_ < guard_bytes_) [[unlikely]] return false;
    return push_cached(p, bytes, alignment);
  }

  // Guarded allocations so far (release() does not reset it), and slots holding pages now.
  std::uint64_t guarded_count() const noexcept { return guarded_allocations_.load(std::memory_order_relaxed); }
  std::size_t guarded_mappings() const noexcept { return guards_ ? guards_->mapped_slots() : 0; }

  // ---- Slow paths (scalable_heap.cc). -----------------------------------------------------------

  // Any request. Throws std::invalid_argument for a bad alignment, std::bad_alloc for an impossible
  // size, and whatever upstream throws; in each case nothing has changed.
  [[gnu::noinline]] void* allocate(std::size_t bytes, std::size_t alignment);
  [[gnu::noinline]] void deallocate(void* p, std::size_t bytes, std::size_t alignment) noexcept;

  // The class a request goes to, or size_class_map::npos for the large path.
  std::size_t class_for(std::size_t bytes, std::size_t alignment) const noexcept {
    return map_.class_for(bytes, alignment);
  }
  const size_class_map& classes() const noexcept { return map_; }
  const thread_cache_policy& policy() const noexcept { return policy_; }
  std::size_t span_bytes(std::size_t c) const noexcept { return central_[c]->span_bytes(); }

  // Drains the calling thread's cache and the caches of threads that are asleep in the kernel (blocked
  // on a lock, a condition, a latch, I/O: see drain_idle), giving their allowance back to the budget;
  // then gives parked batches back to their spans and every entirely free span back to upstream.
  // Returns the bytes given back. Running threads' cached blocks keep their spans.
  std::size_t release_unused() noexcept;
  // Bytes the thread caches hold now (blocks in their lists), and the budget's unused allowance.
  std::size_t cached_bytes() const;
  std::size_t budget_left() const noexcept {
    const std::int64_t v = budget_left_.load(std::memory_order_relaxed);
    return v > 0 ? std::size_t(v) : 0;
  }
  // Gives everything back to upstream; every block handed out becomes invalid. No other thread may
  // use the heap meanwhile.
  void release_all() noexcept;

  // Fills the counts (allocations .. total_usable_bytes, peak_live_bytes) and classes of `out`.
  void fill_stats(resource_stats& out) const;

  // Threads holding a cache now; the calling thread's max for class c (0 without a cache).
  std::size_t thread_count() const { return cache_count(); }
  std::size_t local_max_blocks(std::size_t c);
  std::size_t large_count() const noexcept { return large_.count(); }

  // For fork() in a process whose malloc is this heap (malloc/): takes every lock of the heap (the
  // registry mutex, then each class's shard locks), so that the child does not inherit one held by
  // a thread it does not have; the same thread lets them go again in the parent and in the child.
  void lock_for_fork() noexcept;
  void unlock_after_fork() noexcept;

 private:
  // Counts of blocks not counted in a live thread cache: threads without a cache, caches of threads
  // that have exited, and release() (which counts every live block as freed).
  struct class_extra {
    std::atomic<std::uint64_t> allocations{0};
    std::atomic<std::uint64_t> deallocations{0};
  };

  // The block size of the class whose list sits at `offset` in a thread cache (for asan poisoning).
  std::size_t block_bytes(std::size_t offset) const noexcept {
    return policy_.size[offset / sizeof(thread_class_list)];
  }

  // The fast paths past their guards (this thread's cache is the last used, and bytes is in the
  // size table): inlined into each, so that try_allocate and try_deallocate stay one straight run.
  // Sampling: the allocation is counted towards the thread's next sample only once it is sure to be
  // served here (after the last other reason to refuse), so that the slow path can tell a refused
  // call it must count (countdown >= 0) from one that is due (below 0): see allocate_sampled.
  template <bool Sampling>
  [[gnu::always_inline]] void* pop_cached(std::size_t bytes, std::size_t alignment) noexcept {
    auto* tc = static_cast<scalable_thread_cache*>(tls_last_thread_cache.cache);
    const std::size_t offset = fast_.list_offset(bytes);
    thread_class_list& l = tc->list_at(offset);
    // Not a power of two (the slow path throws), or more alignment than this class's blocks have
    // (the slow path picks a larger class or goes to upstream).
    if (!alignment_fits(alignment, l.reject_mask)) [[unlikely]] return nullptr;
    void* p = l.head;
    // List empty: refill a batch from the class's central list.
    if (p == nullptr) [[unlikely]] return nullptr;
    if constexpr (Sampling) {
      if (!tc->count_allocation()) [[unlikely]] return nullptr;  // a sample is due
    }
    l.head = *static_cast<void**>(p);
    unpoison_block(p, block_bytes(offset));  // nothing outside asan builds (allocator/asan_poison.h)
    add_relaxed(l.credit, 1);
    add_relaxed(l.allocations, 1);
    add_relaxed(l.requested_in, bytes);
    return p;
  }
  [[gnu::always_inline]] bool push_cached(void* p, std::size_t bytes, std::size_t alignment) noexcept {
    auto* tc = static_cast<scalable_thread_cache*>(tls_last_thread_cache.cache);
    const std::size_t offset = fast_.list_offset(bytes);
    thread_class_list& l = tc->list_at(offset);
    // Allocated from a larger class for its alignment: the slow path finds that class again.
    if (alignment > l.block_alignment) [[unlikely]] return false;
    // The list is at its bound: grow it or flush a batch first.
    if (!take_credit(l.credit)) [[unlikely]] return false;
    poison_free_block(p, block_bytes(offset));  // nothing outside asan builds
    *static_cast<void**>(p) = l.head;
    l.head = p;
    add_relaxed(l.requested_out, bytes);  // the credit taken counts the deallocation (thread_class_list)
    return true;
  }

  // This thread's cache, attached on first use and remembered as its last one; nullptr when it can
  // have none.
  scalable_thread_cache* local() noexcept;

  void* allocate_small(std::size_t c, std::size_t bytes);
  void deallocate_small(std::size_t c, void* p, std::size_t bytes) noexcept;
  void* allocate_large(std::size_t bytes, std::size_t alignment);
  void deallocate_large(void* p, std::size_t bytes, std::size_t alignment) noexcept;
  void fold_into_extras(scalable_thread_cache& tc) noexcept;
  // Another thread's cache, drained if its owner is asleep in the kernel; false if it was not.
  bool drain_idle(scalable_thread_cache& tc) noexcept;
  // The owner's side of drain_idle: after a drain closed this thread's fast path, open it again.
  void reopen_after_drain(scalable_thread_cache& tc) noexcept;
  // A guarded block when this allocation is the thread's sample (and a slot is free), else nullptr;
  // counts an allocation the fast path did not count.
  void* allocate_sampled(std::size_t c, std::size_t bytes, std::size_t alignment) noexcept;
  void deallocate_guarded(void* p, std::size_t bytes, std::size_t alignment) noexcept;

  void* create_cache() override;
  void retire_cache(void* cache, bool thread_exit) noexcept override;
  void destroy_cache(void* cache, bool thread_exit) noexcept override;

  // Hot, read on every fast-path call; on a cache line of their own, away from the base's counters,
  // which the slow paths write.
  alignas(kCacheLine) std::uint64_t id_;  // unique over the process's lifetime
  std::size_t free_bound_;                 // fast_.bound() (0 while sampling)
  // A sampling heap's bound on both paths (the size table's, as fast_.bound() would be; 0 in one
  // that does not sample), and its guard reservation (guarded_pages::owns, copied here: one range).
  std::size_t sample_bound_;
  std::uintptr_t guard_base_ = 0;
  std::size_t guard_bytes_ = 0;
  fast_class_lookup fast_;                 // starts with its bound, on id_'s line
  size_class_map map_;
  std::size_t table_limit_;  // the largest size fast_'s table covers (checked mode's bound)

  thread_cache_policy policy_;
  stats_counters* counters_;
  std::vector<std::unique_ptr<class_central_list>> central_;
  large_block_shards large_;
  mutable live_bytes_peak peak_;  // stats() raises it to what it reads
  class_extra extra_[size_class_map::kMaxClasses];
  std::atomic<std::uint64_t> extra_requested_in_{0};
  std::atomic<std::uint64_t> extra_requested_out_{0};
  std::atomic<std::uint64_t> large_allocations_{0};
  std::atomic<std::uint64_t> large_deallocations_{0};
  std::atomic<std::uint64_t> large_bytes_in_{0};
  std::atomic<std::uint64_t> large_bytes_out_{0};
  std::atomic<std::int64_t> budget_left_;      // thread_cache_policy::budget_left
  std::atomic<std::int64_t> caches_{0};        // thread caches now (thread_cache_policy::caches)
  std::atomic<std::uint64_t> next_shard_{0};  // the next thread cache's shard (taken modulo the count)
  std::int64_t sample_rate_;                   // guarded_sample_rate
  std::unique_ptr<guarded_pages> guards_;      // null unless sampling
  std::atomic<std::uint64_t> guarded_allocations_{0};
};

}  // namespace allocbench::detail
