#include "allocator/block_pool.h"

namespace allocbench::detail {

block_pool::block_pool(block_geometry geometry, std::size_t chunk_bytes,
                       std::pmr::memory_resource& upstream, stats_counters& counters) noexcept
    : geometry_(geometry), chunk_bytes_(chunk_bytes), upstream_(&upstream), counters_(&counters) {}

void block_pool::refill() {
  auto* chunk = static_cast<std::byte*>(chunks_.acquire(*upstream_, chunk_bytes_, geometry_.alignment));
  counters_->on_upstream_acquire(chunk_bytes_);
  bump_ = chunk;
  bump_end_ = chunk + blocks_per_chunk() * geometry_.stride;
}

void block_pool::release() noexcept {
  free_.clear();
  bump_ = bump_end_ = nullptr;
  counters_->on_upstream_release(chunks_.release_all(*upstream_));
}

}  // namespace allocbench::detail
