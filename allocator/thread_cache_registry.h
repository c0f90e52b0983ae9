// Per-thread caches for each instance of a resource: lookup, creation on first use, flushing when a
// thread exits, and safe destruction of an instance while other threads still hold caches for it.
//
// Each live instance owns a slot index in [0, kMaxSlots) and a 64-bit id that is never reused. Every
// thread has a table of kMaxSlots entries {owner id, cache}; the fast lookup is one load of the entry
// and one compare with the instance's id. A stale entry (its instance destroyed, the slot reused by a
// newer instance) never matches, because ids are never reused.
//
// One process-wide mutex guards the slow paths only: creating a cache, a thread's exit, and an
// instance's destruction. It is held only for bookkeeping: no owner callback that takes a lock runs
// under it. Why: resources stack (a scalable_resource over another resource with thread caches), and
// an upstream call made under a resource's own lock can attach a cache of the upstream, which takes
// this mutex; a flush under this mutex that then waited for that resource's lock would deadlock.
//
// A thread that exits hands each of its caches back to the instance if the instance is still alive,
// in two steps: under the mutex the cache leaves the instance's list (retire_cache moves its counts
// to the instance, so a statistics visitor counts it exactly once) and the instance notes one exit in
// flight; after the mutex is let go, destroy_cache (thread_exit = true) flushes and frees it, and the
// instance is told the exit is done. An instance being destroyed retires its id and waits, under
// the mutex's condition, until no exit is in flight, then takes every remaining cache away and
// destroys them (thread_exit = false) with the mutex let go; a thread that exits later finds the id
// changed and leaves the entry alone. More than kMaxSlots live instances, or a thread in the middle
// of exiting, get no cache: local() returns nullptr and the owner serves the call from its central
// structures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace allocbench::detail {

// One entry of a thread's cache table.
struct thread_cache_entry {
  std::uint64_t owner = 0;  // id of the instance this cache belongs to; 0 = empty
  void* cache = nullptr;
};

struct thread_cache_registry {
  static constexpr std::size_t kMaxSlots = 256;
};

// This thread's table, indexed by instance slot.
inline constinit thread_local thread_cache_entry
    tls_thread_cache_table[thread_cache_registry::kMaxSlots] = {};

// The base of a resource that keeps per-thread caches. The derived class implements create_cache and
// destroy_cache, and must call destroy_all_caches() at the start of its destructor, while its central
// structures still exist.
class thread_cache_owner {
 public:
  thread_cache_owner();
  thread_cache_owner(const thread_cache_owner&) = delete;
  thread_cache_owner& operator=(const thread_cache_owner&) = delete;

  // This thread's cache for this instance, created on first use; nullptr when none can be had.
  void* local_cache() {
    const thread_cache_entry& e = tls_thread_cache_table[slot_];
    if (e.owner == id_) [[likely]] return e.cache;
    return attach_slow();
  }

  // The number of threads that hold a cache of this instance right now.
  std::size_t cache_count() const;

 protected:
  ~thread_cache_owner();

  // A new, empty cache for the calling thread. May throw (then the thread gets no cache this time).
  virtual void* create_cache() = 0;
  // A cache leaves this instance's list (its thread exits, or the instance goes away): runs under the
  // registry mutex, right before destroy_cache runs without it. For moving the cache's counts to the
  // instance, so that for_each_cache sees them exactly once. Must take no lock and call no upstream.
  virtual void retire_cache(void* /*cache*/, bool /*thread_exit*/) noexcept {}
  // Flushes (thread_exit: the owning thread is leaving) or discards (the instance is going away) a
  // retired cache and frees it. Runs without the registry mutex; may take the owner's own locks.
  virtual void destroy_cache(void* cache, bool thread_exit) noexcept = 0;

  // Visits every cache of this instance, then runs `after`, all under the registry mutex: e.g. to sum
  // statistics (`after` reads what retire_cache moved, in the same critical section, so that no cache
  // is counted twice or missed). The caches' owning threads may be running: the visitor must only
  // touch fields that are safe to read or modify concurrently. Neither may take a lock.
  template <class F, class G>
  void for_each_cache(F&& visit, G&& after) const {
    lock_registry();
    for (void* c : caches_) visit(c);
    after();
    unlock_registry();
  }
  template <class F>
  void for_each_cache(F&& visit) const {
    for_each_cache(visit, [] {});
  }

  // As for_each_cache, once no thread is in the middle of flushing a cache of this instance into it
  // (release(): a flush running meanwhile would put blocks back after everything was dropped).
  template <class F>
  void for_each_cache_after_exits(F&& visit) {
    lock_registry_after_exits();
    for (void* c : caches_) visit(c);
    unlock_registry();
  }

  // As for_each_cache, for release_unused(): the visitor may take the owner's own locks (a cache's
  // slow-path lock, with try_lock only, since its owner may hold it while an upstream call attaches
  // a cache; a central list's locks, under which nobody takes the registry mutex). No upstream calls.
  template <class F>
  void for_each_cache_locking(F&& visit) {
    lock_registry();
    for (void* c : caches_) visit(c);
    unlock_registry();
  }

  void destroy_all_caches() noexcept;

  // The registry mutex, for fork() (scalable_heap::lock_for_fork): taken before any owner lock.
  static void lock_registry_for_fork() noexcept { lock_registry(); }
  static void unlock_registry_after_fork() noexcept { unlock_registry(); }

 private:
  friend struct thread_exit_hook;
  void* attach_slow();
  static void lock_registry();
  static void unlock_registry();
  void lock_registry_after_exits();

  std::uint64_t id_;
  std::size_t slot_;
  bool has_slot_;
  std::vector<void*> caches_;      // guarded by the registry mutex
  std::size_t exits_in_flight_ = 0;  // retired caches being flushed outside it (guarded by it)
};

}  // namespace allocbench::detail
