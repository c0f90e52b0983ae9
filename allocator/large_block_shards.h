// Blocks too large (or too aligned) for any size class: each is its own upstream allocation, linked
// in one of kShards lists (picked by address) so that release() and the destructor can return them.
//
// Each shard has its own lock, held only to link or unlink; the upstream call itself runs outside
// any lock. So large requests of different threads rarely meet on a lock, and there is no lock that
// every large request takes. The upstream must be thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>

#include "allocator/counted_mutex.h"
#include "allocator/direct_blocks.h"
#include "allocator/stats_counters.h"

namespace allocbench::detail {

class large_block_shards {
 public:
  static constexpr std::size_t kShards = 16;

  large_block_shards(std::pmr::memory_resource& upstream, stats_counters& counters) noexcept
      : upstream_(&upstream), counters_(&counters) {}
  ~large_block_shards() { release_all(); }
  large_block_shards(const large_block_shards&) = delete;
  large_block_shards& operator=(const large_block_shards&) = delete;

  // A block from upstream; bad_alloc (nothing changed) where bytes + header overflows, and whatever
  // upstream throws.
  void* allocate(std::size_t bytes, std::size_t alignment);
  // `p` must come from allocate() of this object.
  void deallocate(void* p) noexcept;
  // Gives every block back; returns the upstream bytes freed.
  std::size_t release_all() noexcept;

  std::size_t count() const noexcept;
  std::size_t bytes_held() const noexcept;

 private:
  struct alignas(kCacheLine) shard {
    mutable counted_mutex mu;
    direct_blocks blocks;  // guarded by mu
  };

  shard& shard_of(const void* p) noexcept {
    // Upstream blocks are at least 16-byte aligned; a multiplicative hash spreads the rest.
    const auto bits = std::uint64_t(reinterpret_cast<std::uintptr_t>(p) >> 4);
    return shards_[(bits * 0x9E3779B97F4A7C15ull) >> 60];
  }

  std::pmr::memory_resource* upstream_;
  stats_counters* counters_;
  shard shards_[kShards];
};

}  // namespace allocbench::detail
