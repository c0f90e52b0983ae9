#include "allocator/thread_cache_registry.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>

namespace allocbench::detail {
namespace {

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
}

// Signalled (with registry_mutex) whenever an exiting thread has finished flushing its caches.
std::condition_variable& exits_done() {
  static std::condition_variable cv;
  return cv;
}

// Guarded by registry_mutex().
struct slot_table {
  thread_cache_owner* owner[thread_cache_registry::kMaxSlots] = {};
  std::uint64_t id[thread_cache_registry::kMaxSlots] = {};
  std::uint64_t next_id = 1;
};

slot_table& slots() {
  static slot_table t;
  return t;
}

// Instances beyond kMaxSlots share this unused slot index with id 0 never matching a real owner, so
// their lookups always take the slow path and get no cache.
constexpr std::size_t kNoSlot = 0;

}  // namespace

// One per thread that has attached a cache: its destructor hands the caches back at thread exit.
struct thread_exit_hook {
  bool exiting = false;
  ~thread_exit_hook() {
    exiting = true;
    // Retired under the mutex, flushed after it is let go (see the header: no flush under it).
    struct retired {
      thread_cache_owner* owner;
      void* cache;
    };
    retired out[thread_cache_registry::kMaxSlots];  // on the stack: no allocation while exiting
    std::size_t n = 0;
    {
      std::lock_guard lock(registry_mutex());
      slot_table& t = slots();
      thread_cache_entry* table = tls_thread_cache_table;
      for (std::size_t s = 0; s < thread_cache_registry::kMaxSlots; ++s) {
        thread_cache_entry& e = table[s];
        if (e.owner == 0) continue;
        // Only a live instance with the same id still owns this cache; otherwise it was already
        // destroyed with its instance.
        if (t.id[s] == e.owner && t.owner[s] != nullptr) {
          thread_cache_owner* o = t.owner[s];
          o->caches_.erase(std::find(o->caches_.begin(), o->caches_.end(), e.cache));
          o->retire_cache(e.cache, /*thread_exit=*/true);
          ++o->exits_in_flight_;  // keeps o alive: its destroy_all_caches waits for this exit
          out[n++] = retired{o, e.cache};
        }
        e = thread_cache_entry{};
      }
    }
    if (n == 0) return;
    for (std::size_t i = 0; i < n; ++i) out[i].owner->destroy_cache(out[i].cache, /*thread_exit=*/true);
    {
      std::lock_guard lock(registry_mutex());
      for (std::size_t i = 0; i < n; ++i) --out[i].owner->exits_in_flight_;
    }
    exits_done().notify_all();
  }
};

namespace {
thread_local thread_exit_hook tls_exit_hook;
}  // namespace

thread_cache_owner::thread_cache_owner() {
  std::lock_guard lock(registry_mutex());
  slot_table& t = slots();
  id_ = t.next_id++;
  has_slot_ = false;
  slot_ = kNoSlot;
  // Slot 0 is never given out, so that kNoSlot lookups never match.
  for (std::size_t s = 1; s < thread_cache_registry::kMaxSlots; ++s) {
    if (t.owner[s] == nullptr) {
      t.owner[s] = this;
      t.id[s] = id_;
      slot_ = s;
      has_slot_ = true;
      break;
    }
  }
}

thread_cache_owner::~thread_cache_owner() {
  // The derived destructor should have called destroy_all_caches(); do it here too so that the slot
  // is freed whatever happens (destroy_cache is pure virtual by now, so only an empty list is safe).
  std::lock_guard lock(registry_mutex());
  if (has_slot_) {
    slots().owner[slot_] = nullptr;
    slots().id[slot_] = 0;
  }
}

void* thread_cache_owner::attach_slow() {
  if (!has_slot_) return nullptr;
  // A thread_local touched during thread exit would be re-created after its destructor ran; a thread
  // that is exiting gets no new cache.
  thread_exit_hook& hook = tls_exit_hook;
  if (hook.exiting) return nullptr;
  void* cache = create_cache();
  {
    std::lock_guard lock(registry_mutex());
    // The entry may hold a stale cache of a destroyed instance that used this slot: that cache was
    // freed with its instance, so it is simply overwritten.
    bool listed = false;
    try {
      caches_.push_back(cache);
      listed = true;
    } catch (...) {
    }
    if (listed) {
      thread_cache_entry& e = tls_thread_cache_table[slot_];
      e.owner = id_;
      e.cache = cache;
      return cache;
    }
  }
  // Out of memory for the list: the cache was never used, so destroying it only frees it (outside
  // the mutex, like every destroy_cache).
  destroy_cache(cache, /*thread_exit=*/false);
  throw std::bad_alloc();  // the caller goes on without a cache
}

void thread_cache_owner::destroy_all_caches() noexcept {
  std::vector<void*> taken;
  {
    std::unique_lock lock(registry_mutex());
    if (has_slot_) {
      // Retire the id first: from here on no thread's entry matches this instance, and no exit can
      // start flushing a cache of it.
      slots().id[slot_] = 0;
      slots().owner[slot_] = nullptr;
      has_slot_ = false;
    }
    // The calling thread's own entry can be cleared; other threads' stale entries are harmless.
    thread_cache_entry& mine = tls_thread_cache_table[slot_];
    if (mine.owner == id_) mine = thread_cache_entry{};
    // Exits that retired a cache of this instance before the id went are still flushing into it.
    exits_done().wait(lock, [this] { return exits_in_flight_ == 0; });
    for (void* c : caches_) retire_cache(c, /*thread_exit=*/false);
    taken.swap(caches_);
  }
  for (void* c : taken) destroy_cache(c, /*thread_exit=*/false);
}

std::size_t thread_cache_owner::cache_count() const {
  std::lock_guard lock(registry_mutex());
  return caches_.size();
}

void thread_cache_owner::lock_registry() { registry_mutex().lock(); }
void thread_cache_owner::unlock_registry() { registry_mutex().unlock(); }

void thread_cache_owner::lock_registry_after_exits() {
  std::unique_lock lock(registry_mutex());
  exits_done().wait(lock, [this] { return exits_in_flight_ == 0; });
  lock.release();  // for_each_cache_after_exits unlocks
}

}  // namespace allocbench::detail
