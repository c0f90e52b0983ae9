#include "allocator/chunk_list.h"

#include <algorithm>

#include "allocator/asan_poison.h"

namespace allocbench::detail {

void* chunk_list::acquire(std::pmr::memory_resource& upstream, std::size_t bytes,
                          std::size_t alignment) {
  // Room for the record first, so that once upstream has given the chunk nothing else can fail.
  if (chunks_.size() == chunks_.capacity()) {
    chunks_.reserve(std::max<std::size_t>(8, 2 * chunks_.capacity()));
  }
  void* p = upstream.allocate(bytes, alignment);
  chunks_.push_back(chunk{p, bytes, alignment});
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  return p;
}

std::size_t chunk_list::release_all(std::pmr::memory_resource& upstream) noexcept {
  std::size_t total = 0;
  for (const chunk& c : chunks_) {
    unpoison_block(c.p, c.bytes);  // its free blocks were poisoned (asan_poison.h); upstream reuses it
    upstream.deallocate(c.p, c.bytes, c.alignment);
    total += c.bytes;
  }
  chunks_.clear();
  bytes_.store(0, std::memory_order_relaxed);
  return total;
}

}  // namespace allocbench::detail
