#include "allocator/thread_cache_registry.h"

#include <algorithm>
#include <atomic>
#include <mutex>

namespace allocbench::detail {
namespace {

std::mutex& registry_mutex() {
  static std::mutex mu;
  return mu;
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
        o->destroy_cache(e.cache, /*thread_exit=*/true);
      }
      e = thread_cache_entry{};
    }
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
  std::lock_guard lock(registry_mutex());
  thread_cache_entry& e = tls_thread_cache_table[slot_];
  // The entry may hold a stale cache of a destroyed instance that used this slot: that cache was freed
  // with its instance, so it is simply overwritten.
  try {
    caches_.push_back(cache);
  } catch (...) {
    destroy_cache(cache, /*thread_exit=*/false);  // never used: nothing to flush, only to free
    throw;  // the caller goes on without a cache
  }
  e.owner = id_;
  e.cache = cache;
  return cache;
}

void thread_cache_owner::destroy_all_caches() noexcept {
  std::lock_guard lock(registry_mutex());
  if (has_slot_) {
    // Retire the id first: from here on no thread's entry matches this instance.
    slots().id[slot_] = 0;
    slots().owner[slot_] = nullptr;
    has_slot_ = false;
  }
  // The calling thread's own entry can be cleared; other threads' stale entries are harmless.
  thread_cache_entry& mine = tls_thread_cache_table[slot_];
  if (mine.owner == id_) mine = thread_cache_entry{};
  for (void* c : caches_) destroy_cache(c, /*thread_exit=*/false);
  caches_.clear();
}

std::size_t thread_cache_owner::cache_count() const {
  std::lock_guard lock(registry_mutex());
  return caches_.size();
}

void thread_cache_owner::lock_registry() { registry_mutex().lock(); }
void thread_cache_owner::unlock_registry() { registry_mutex().unlock(); }

}  // namespace allocbench::detail
