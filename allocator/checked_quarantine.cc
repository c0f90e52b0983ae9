#include "allocator/checked_quarantine.h"

namespace allocbench::detail {

checked_quarantines::~checked_quarantines() { destroy_all_caches(); }

void checked_quarantines::destroy_cache(void* cache, bool thread_exit) noexcept {
  auto* ring = static_cast<checked_quarantine_ring*>(cache);
  if (thread_exit) {
    // Oldest first, as they would have left.
    for (quarantined_block b = ring->pop(); b.p != nullptr; b = ring->pop()) give_(context_, b);
  }
  delete ring;
}

void checked_quarantines::clear() noexcept {
  for_each_cache_after_exits([](void* c) { static_cast<checked_quarantine_ring*>(c)->clear(); });
  std::lock_guard lock(shared_mu_);
  shared_.clear();
}

}  // namespace allocbench::detail
