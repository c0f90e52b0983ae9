#include "allocator/large_block_shards.h"

#include <limits>
#include <new>

namespace allocbench::detail {

static_assert(large_block_shards::kShards == 16, "shard_of takes the top 4 bits of the hash");

void* large_block_shards::allocate(std::size_t bytes, std::size_t alignment) {
  // acquire rejects sizes no upstream can honour (check_upstream_request) before asking it.
  void* p = direct_blocks::acquire(upstream_, bytes, alignment);  // may throw: nothing changed
  counters_->on_upstream_acquire(direct_blocks::held_bytes(p));
  shard& s = shard_of(p);
  counted_lock lock(s.mu, *counters_);
  s.blocks.link(p);
  return p;
}

void large_block_shards::deallocate(void* p) noexcept {
  const std::size_t held = direct_blocks::held_bytes(p);
  {
    shard& s = shard_of(p);
    counted_lock lock(s.mu, *counters_);
    s.blocks.unlink(p);
  }
  direct_blocks::give_back(upstream_, p);
  counters_->on_upstream_release(held);
}

std::size_t large_block_shards::release_all() noexcept {
  std::size_t freed = 0;
  for (shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    freed += s.blocks.release_all(upstream_);
  }
  counters_->on_upstream_release(freed);
  return freed;
}

std::size_t large_block_shards::count() const noexcept {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    n += s.blocks.count();
  }
  return n;
}

std::size_t large_block_shards::bytes_held() const noexcept {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    n += s.blocks.bytes();
  }
  return n;
}

}  // namespace allocbench::detail
