#include "allocator/block_thread_caches.h"

#include <algorithm>

namespace allocbench::detail {

block_thread_caches::block_thread_caches(central_free_list& central, std::size_t capacity)
    : central_(central), capacity_(capacity), batch_(std::max<std::size_t>(1, capacity / 2)) {}

block_thread_caches::~block_thread_caches() { destroy_all_caches(); }

void* block_thread_caches::refill_and_pop(block_cache& cache) {
  central_.pop_batch(cache.blocks, batch_);
  return cache.blocks.pop();
}

void block_thread_caches::flush(block_cache& cache) noexcept {
  central_.push_batch(cache.blocks, batch_);
}

void block_thread_caches::drop_all() noexcept {
  for_each_cache_after_exits([](void* c) { static_cast<block_cache*>(c)->blocks.clear(); });
}

void* block_thread_caches::create_cache() { return new block_cache; }

void block_thread_caches::destroy_cache(void* cache, bool /*thread_exit*/) noexcept {
  // Whether the thread is leaving or the instance is going away, the blocks go back to the central
  // list: then every block is always somewhere the pool knows of. Runs outside the registry mutex
  // (thread_cache_registry.h), so taking the central list's lock here closes no cycle.
  auto* c = static_cast<block_cache*>(cache);
  central_.push_batch(c->blocks, c->blocks.size());
  delete c;
}

}  // namespace allocbench::detail
