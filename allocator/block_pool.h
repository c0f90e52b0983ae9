// A pool of equal-sized blocks carved from chunks that it asks upstream for: the engine under both the
// fixed slab and each size class of the segregated resource.
//
// Not synchronised: the owner picks the locking (one lock for everything, a lock per class, ...).
//
// A new chunk is not cut into a free list up front. Its blocks are handed out by bumping a pointer
// through it, so a refill costs one upstream call and touches no memory, which matters when the refill
// runs under a lock that other threads wait on. Freed blocks go onto an intrusive free list and are
// reused before the rest of the chunk (most recently freed first: likely still in cache).
#pragma once

#include <cstddef>
#include <memory_resource>

#include "allocator/chunk_list.h"
#include "allocator/free_list.h"
#include "allocator/request.h"
#include "allocator/stats_counters.h"

namespace allocbench::detail {

// The largest chunk (and so the largest block) a pool accepts: a bound that keeps every size
// computation far from overflow.
inline constexpr std::size_t kMaxChunkBytes = std::size_t(1) << 30;

// Where blocks of a usable size sit in a chunk.
struct block_geometry {
  std::size_t stride;     // distance between blocks: at least a pointer (the free-list link), a multiple of 8
  std::size_t alignment;  // largest power of two dividing the stride, capped at kMaxHonouredAlignment
};

// `block_size` must be at most kMaxChunkBytes.
constexpr block_geometry geometry_for(std::size_t block_size) noexcept {
  const std::size_t stride = round_up(block_size < sizeof(void*) ? sizeof(void*) : block_size, 8);
  const std::size_t lowest_bit = stride & (~stride + 1);
  return {stride, lowest_bit < kMaxHonouredAlignment ? lowest_bit : kMaxHonouredAlignment};
}

class block_pool {
 public:
  // Chunks of `chunk_bytes` (at least one stride) aligned to the geometry's alignment, so that every
  // block is aligned to it. Upstream traffic is counted in `counters`.
  block_pool(block_geometry geometry, std::size_t chunk_bytes, std::pmr::memory_resource& upstream,
             stats_counters& counters) noexcept;
  ~block_pool() { release(); }
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;

  // A free block, or nullptr when both the free list and the current chunk are exhausted (then the
  // owner calls refill()).
  void* pop() noexcept {
    if (void* p = free_.pop()) [[likely]] return p;
    return bump();
  }

  void push(void* block) noexcept { free_.push(block); }

  // Gets one more chunk from upstream. If upstream throws, the exception propagates and the pool is
  // unchanged. The unused tail of the previous chunk (if any) is abandoned: a refill happens only once
  // that tail holds no whole block.
  void refill();

  // Gives every chunk back; every block handed out becomes invalid.
  void release() noexcept;

  // Blocks obtainable without a refill.
  std::size_t free_count() const noexcept {
    return free_.size() + std::size_t(bump_end_ - bump_) / geometry_.stride;
  }
  std::size_t bytes_held() const noexcept { return chunks_.bytes_held(); }
  std::size_t chunk_count() const noexcept { return chunks_.count(); }
  std::size_t blocks_per_chunk() const noexcept { return chunk_bytes_ / geometry_.stride; }
  const block_geometry& geometry() const noexcept { return geometry_; }

 private:
  void* bump() noexcept {
    if (bump_end_ - bump_ < std::ptrdiff_t(geometry_.stride)) return nullptr;
    void* p = bump_;
    bump_ += geometry_.stride;
    return p;
  }

  block_geometry geometry_;
  std::size_t chunk_bytes_;
  std::pmr::memory_resource* upstream_;
  stats_counters* counters_;
  free_list free_;
  std::byte* bump_ = nullptr;      // next never-used block of the newest chunk
  std::byte* bump_end_ = nullptr;  // end of the newest chunk's whole blocks
  chunk_list chunks_;
};

}  // namespace allocbench::detail
