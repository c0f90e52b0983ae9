// One thread's cache of free blocks for one scalable_resource: a free list per size class, with the
// counts the resource's statistics are made of.
//
// The fast path (allocator/scalable_heap.h) pops and pushes lists[c] and bumps its counts; everything
// else is here, out of line: refills from and flushes to the class's central list in batches, the
// adaptive bound on each list, and the sampling of live bytes for the peak.
//
// Counts: only the owning thread writes a cache's counters, so each update is a relaxed load and
// store (no read-modify-write, no lock prefix); stats() reads them from another thread, hence atomics
// (tsan-clean). The bound on list c is kept as `credit` = max - (blocks in the list): a plain field
// that only the owning thread touches, one memory add per allocate and one compare and subtract per
// deallocate; a list with no credit left takes the slow path.
//
// Adaptive bounds: a class's max starts at 0 and grows by one batch at each refill (the class is being
// used) or overflow, up to policy.max_blocks[c], while the sum over classes of max * size stays within
// policy.total_bytes. At that cap a growing class takes a batch of allowance from a class that is not
// using it (fewer blocks cached than its max allows), so the budget follows the classes in use. A
// list over its max flushes one batch.
//
// Full swings: a list at policy.max_blocks[c] that overflows after running empty (a refill) since
// its previous overflow, in a thread that still has blocks of the class out (it allocated more than
// it freed), the last one freed carved by the thread's own shard, swings over more than its bound:
// the thread's own use of the class (requests that end, a random walk of a live set) is wider than
// the list, and each swing costs a refill and a flush. Such a list grows by one batch per swing, up
// to policy.burst_blocks[c] and only into allowance that no other class holds, and keeps it: the
// next swing is served from the cache. That allowance may go past the thread's byte cap
// (total_bytes), up to its equal share of the budget among the threads that have a cache
// (burst_cap_bytes): with few threads most of the budget is otherwise never used. When more threads
// arrive and the share falls below what the cache holds, each refill gives back the list's extra.
// (README: the slow-path counts and timings that led here.) A list that only fills (a consumer of
// blocks other threads made) or only empties (a producer) never swings, nor does a thread freeing
// blocks other threads carved (batch_handoff's, whose rings bring back runs of a thread's own blocks
// too, are held back by the one-batch-per-swing step): they keep the ordinary bound, which is what
// holds their memory down.
//
// Invariants: every block in lists[c] is free and belongs to class c's central list's spans. Only the
// owning thread touches the cache, except under the registry mutex when that thread exits or is known
// not to use the resource (release(), destruction).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "allocator/class_central_list.h"
#include "allocator/last_thread_cache.h"
#include "allocator/live_bytes_peak.h"
#include "allocator/size_class_map.h"
#include "allocator/stats_counters.h"  // kCacheLine

namespace allocbench::detail {

// Whether add_relaxed may use one x86-64 `add` to memory. Not under ThreadSanitizer, which does not see
// inline assembly: there the portable load and store below keep every access visible to it.
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if !__has_feature(thread_sanitizer)
#define ALLOCBENCH_ADD_TO_MEMORY 1
#endif
#else
#define ALLOCBENCH_ADD_TO_MEMORY 1
#endif
#endif

// A counter with one writer: a plain load and store, no atomic read-modify-write.
// GCC never fuses an atomic load and store into one instruction, so the portable form costs a load,
// an add and a store (plus an address computation) on the fast path. On x86-64 an aligned 8-byte
// store is atomic whatever instruction does it, so a non-locked `add` to memory is exactly a relaxed
// load followed by a relaxed store by the one writer: readers on other threads see the old value or
// the new one, never a torn one.
template <class T>
inline void add_relaxed(std::atomic<T>& counter, T v) noexcept {
  static_assert(sizeof(T) == 8 && std::atomic<T>::is_always_lock_free);
#ifdef ALLOCBENCH_ADD_TO_MEMORY
  asm("addq %1, %0" : "+m"(counter) : "er"(v) : "cc");
#else
  counter.store(counter.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
#endif
}
inline void add_relaxed(std::atomic<std::uint64_t>& counter, int v) noexcept {
  add_relaxed(counter, std::uint64_t(v));
}
inline void add_relaxed(std::atomic<std::int64_t>& counter, int v) noexcept {
  add_relaxed(counter, std::int64_t(v));
}

// Takes one credit from a list's bound (one writer, as above): false, with nothing taken, when none
// is left (credit <= 0). On x86-64 this is one `sub` to memory and one jump on its flags (asm goto),
// where the compiler would load, subtract, test and store.
inline bool take_credit(std::atomic<std::int64_t>& credit) noexcept {
#ifdef ALLOCBENCH_ADD_TO_MEMORY
  asm volatile goto("subq $1, %0\n\tjl %l[none_left]" : "+m"(credit) : : "cc" : none_left);
  return true;
none_left:
  add_relaxed(credit, 1);  // the sub went below zero: put the credit back
  return false;
#else
  const std::int64_t now = credit.load(std::memory_order_relaxed);
  if (now <= 0) return false;
  credit.store(now - 1, std::memory_order_relaxed);
  return true;
#endif
}

// What bounds every thread's cache of one resource (fixed at construction).
struct thread_cache_policy {
  std::size_t total_bytes = 0;                              // cap on the sum of max * size
  // The resource's thread_cache_budget: allowance (max * size) not yet taken by any of its caches.
  // A cache takes a batch's worth from it when a class's bound grows and gives it back when the
  // bound shrinks or the cache goes, so the caches of all threads together never allow more.
  // nullptr: no budget (unit tests of one cache).
  std::atomic<std::int64_t>* budget_left = nullptr;
  bool take_budget(std::size_t bytes) const noexcept {
    if (budget_left == nullptr) return true;
    if (budget_left->fetch_sub(std::int64_t(bytes), std::memory_order_relaxed) >= std::int64_t(bytes)) return true;
    budget_left->fetch_add(std::int64_t(bytes), std::memory_order_relaxed);
    return false;
  }
  void give_budget(std::size_t bytes) const noexcept {
    if (bytes != 0 && budget_left != nullptr) budget_left->fetch_add(std::int64_t(bytes), std::memory_order_relaxed);
  }
  // The budget's size and the number of thread caches that share it (scalable_heap keeps the count):
  // a full swing may take a thread's allowance past total_bytes up to an equal share of the budget
  // (burst_cap_bytes), the way tcmalloc's thread caches grow into unclaimed space. nullptr: no share
  // beyond total_bytes.
  std::size_t budget_bytes = 0;
  const std::atomic<std::int64_t>* caches = nullptr;
  std::size_t burst_cap_bytes() const noexcept {
    if (caches == nullptr) return total_bytes;
    const std::int64_t n = caches->load(std::memory_order_relaxed);
    const std::size_t share = budget_bytes / std::size_t(n > 1 ? n : 1);
    return share > total_bytes ? share : total_bytes;
  }
  std::uint32_t size[size_class_map::kMaxClasses] = {};
  std::uint32_t batch[size_class_map::kMaxClasses] = {};        // blocks per refill or flush
  std::uint32_t max_blocks[size_class_map::kMaxClasses] = {};   // cap on a class's max
  // ... and on it after full swings (the header comment).
  std::uint32_t burst_blocks[size_class_map::kMaxClasses] = {};
};

// One class's list: everything the fast path touches for one call, on one cache line of its own.
// The requested-byte counts are per class for that reason: a call then touches this line only, and
// the fast path reaches every field from the list's address, with no second base.
//
// Deallocations are not counted, they are derived: a deallocation takes one credit and changes
// nothing else here, an allocation adds one credit and one allocation, and every other change of
// credit (a refill, a flush, a bound that grows, a drain) is added to credit_moved as well. So
// credit - credit_moved = allocations - deallocations at every moment the owner is not inside one
// of these updates, which saves the fast path one instruction per pair.
struct alignas(kCacheLine) thread_class_list {
  void* head = nullptr;
  std::atomic<std::int64_t> credit{0};  // blocks the list may still take: max - blocks in the list
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> requested_in{0};   // sum of requested bytes allocated from this list
  std::atomic<std::uint64_t> requested_out{0};  // ... and freed into it
  std::atomic<std::int64_t> credit_moved{0};    // credit changes by the slow paths (see above)
  // The class's block alignment and -alignment, set when the cache is made and only read after: the
  // fast path checks a request's alignment here, on the line it touches anyway.
  std::size_t block_alignment = 0;
  std::size_t reject_mask = 0;

  // Blocks allocated from this list and not freed into it (negative in a thread that frees more
  // than it allocates: another thread's blocks). Exact for the owning thread; another thread reads it
  // through scalable_thread_cache::live_seen, which does not catch credit and credit_moved apart.
  std::int64_t live() const noexcept { return load(credit) - load(credit_moved); }
  std::uint64_t deallocations() const noexcept { return load(allocations) - std::uint64_t(live()); }

 private:
  template <class T>
  static T load(const std::atomic<T>& a) noexcept { return a.load(std::memory_order_relaxed); }
};

// Cache-line aligned (and so padded to whole lines): each thread writes its cache on every call, so
// no other object may share a line with it. Allocated with `new`, a cache could otherwise sit right
// after another thread's hot data (glibc gives threads shared arenas once there are many).
class alignas(kCacheLine) scalable_thread_cache {
 public:
  static constexpr std::size_t kMaxClasses = size_class_map::kMaxClasses;

  // A cache for classes of these block alignments (map.count() of them).
  explicit scalable_thread_cache(const size_class_map& map) noexcept;

  // Fast-path state. The lists come first so that list c sits at offset 64 * c.
  thread_class_list lists[kMaxClasses];
  std::uint32_t shard = 0;  // which shard of each central list this cache refills from (set at creation)

  // Guard-page sampling (scalable_heap, guarded_sample_rate > 0): allocations this thread makes
  // before its next sampled one. A sampling heap's fast path counts each allocation it serves (one
  // decrement); below zero, the allocation that took it there is refused and goes to the slow path,
  // which takes the sample. So exactly every rate-th allocation of a thread is sampled.
  std::int64_t sample_countdown = 0;
  // The fast path's count: false when this allocation is the sample.
  bool count_allocation() noexcept { return --sample_countdown >= 0; }
  // The slow path's: whether this allocation is the sample, counting it first unless the fast path
  // did (it leaves the countdown below zero only when it refused a due allocation).
  bool sample_due() noexcept { return sample_countdown < 0 || --sample_countdown < 0; }
  // A sample was taken (or could not be): the next is `rate` allocations later, this one included.
  void sampled(std::int64_t rate) noexcept { sample_countdown = rate - 1; }

  // Where list c sits in the cache, in bytes: the fast path finds a list from a table of these
  // (allocator/fast_class_lookup.h), with no multiply.
  static constexpr std::size_t list_offset(std::size_t c) noexcept { return c * sizeof(thread_class_list); }
  thread_class_list& list_at(std::size_t offset) noexcept {
    return *reinterpret_cast<thread_class_list*>(reinterpret_cast<char*>(lists) + offset);
  }

  // live() of list c as another thread may read it while the owner runs: credit and credit_moved
  // read together, between two equal even values of the class's move sequence (a seqlock whose
  // writer is the owner's slow paths only). So the figure is one the list really had at a moment
  // between the reads; read as two loads, a credit move half done made it a batch too high, and a
  // statistics reader then raised the peak to bytes that were never live.
  std::int64_t live_seen(std::size_t c) const noexcept;

  // Blocks list c holds now (owning thread, or under the registry mutex).
  std::int64_t cached(std::size_t c) const noexcept {
    return max_of(c) - lists[c].credit.load(std::memory_order_relaxed);
  }
  // The same read by another thread while the owner runs (cached_bytes): each count is atomic, so the
  // figure is exact while the owner is idle and within a batch of the truth while it runs.
  std::int64_t cached_seen(std::size_t c) const noexcept { return cached(c); }
  std::size_t max_blocks(std::size_t c) const noexcept { return std::size_t(max_of(c)); }

  // List c is empty: takes a batch from `central` (an upstream throw propagates, nothing changed)
  // and pops one block of it. The caller counts the allocation and adds its credit back.
  void* refill(std::size_t c, class_central_list& central, const thread_cache_policy& policy,
               live_bytes_peak& peak);

  // List c has no credit: grows its max or flushes a batch to `central`, so that one more block
  // fits. The caller pushes the block, takes one credit and counts the deallocation.
  void make_room(std::size_t c, class_central_list& central, const thread_cache_policy& policy,
                 live_bytes_peak& peak) noexcept;

  // Gives every block of list c back to `central` (thread exit, destruction, release_unused).
  void drain(std::size_t c, class_central_list& central) noexcept;

  // A free that found no room even after make_room (the class has no allowance: the budget is
  // spent): the caller gives the block to the central list itself; this counts the free.
  void count_passed_free(std::size_t c) noexcept {
    add_relaxed(lists[c].credit, -1);  // the deallocation, as the fast path counts it ...
    move_credit(c, 1);                 // ... and the block leaving the list again
  }

  // Sets every class's bound to 0 (the lists must be empty: drain first) and gives the allowance
  // back to the budget; also when the cache goes away.
  void release_allowance(const thread_cache_policy& policy) noexcept;
  // The allowance this cache holds (sum of max * size).
  std::size_t allowance_bytes() const noexcept { return max_bytes_; }

  // Slow-path lock and identity, for release_unused() on another thread (scalable_heap.cc). The
  // owner holds slow_mu while its slow paths touch the lists; another thread drains the cache only
  // holding it, with the owner asleep in the kernel (so not inside the lock-free fast path) and its
  // fast path closed (its fast_id set to 0 first). reopen_fast (guarded by slow_mu): the owner's
  // next slow path opens its fast path again.
  std::mutex slow_mu;
  last_thread_cache* owner_tls = nullptr;
  int owner_tid = 0;
  bool reopen_fast = false;

  // Forgets every block without giving it back (release(): the spans are going away).
  void drop_all() noexcept;

  // Publishes the live-bytes change of class c since its last sample.
  void sample(std::size_t c, const thread_cache_policy& policy, live_bytes_peak& peak) noexcept;

 private:
  // Slow-path state of one class.
  struct class_state {
    // Blocks the list may hold now. Written by the owner's slow paths (or a drain holding slow_mu),
    // read by cached_bytes() on other threads: hence atomic (relaxed).
    std::atomic<std::int64_t> max{0};
    std::int64_t sampled = 0;  // live() at the last sample
    bool emptied = false;  // the list ran empty (a refill) since its last overflow
  };

  std::int64_t max_of(std::size_t c) const noexcept { return state_[c].max.load(std::memory_order_relaxed); }
  void set_max(std::size_t c, std::int64_t v) noexcept { state_[c].max.store(v, std::memory_order_relaxed); }

  // A change of list c's credit that is not an allocation's or a deallocation's (owning thread, or a
  // retired cache): credit and credit_moved move together, inside the class's move sequence.
  void move_credit(std::size_t c, std::int64_t delta) noexcept;

  // Raises list c's max by a batch if it stays within `limit` blocks, `cap_bytes` of allowance over
  // all classes and the budget, taking allowance from other classes (steal_allowance) for the last
  // two if `may_steal`.
  bool grow(std::size_t c, const thread_cache_policy& policy, std::size_t limit, std::size_t cap_bytes,
            bool may_steal) noexcept;
  bool grow(std::size_t c, const thread_cache_policy& policy) noexcept {
    return grow(c, policy, policy.max_blocks[c], policy.total_bytes, true);
  }
  // Whether this overflow of list c ends a full swing (see the header comment); notes it either way.
  bool overflow_ends_swing(std::size_t c, const thread_cache_policy& policy,
                           const class_central_list& central) noexcept;
  // A refill of list c (empty now): while the cache holds more than the thread's share of the
  // budget, gives back what swings added beyond policy.max_blocks[c].
  void give_back_swing(std::size_t c, const thread_cache_policy& policy) noexcept;
  // Lowers list c's max by `less` blocks (that many free places in the list) and gives the
  // allowance back to the budget.
  void shrink(std::size_t c, const thread_cache_policy& policy, std::int64_t less) noexcept;
  // At the byte cap: takes one batch of allowance from a class that leaves it unused; false if none
  // of the classes looked at can spare one.
  bool steal_allowance(std::size_t c, const thread_cache_policy& policy) noexcept;

  class_state state_[kMaxClasses];
  // Odd while the owner moves list c's credit (live_seen); apart from the lists, off the fast path.
  std::atomic<std::uint32_t> move_seq_[kMaxClasses] = {};
  std::size_t max_bytes_ = 0;  // sum over classes of max * size
  std::size_t next_victim_ = 0;  // where steal_allowance looks next
};

}  // namespace allocbench::detail
