#include "allocator/large_block_shards.h"

#include <pthread.h>

#include <limits>
#include <mutex>
#include <new>

namespace allocbench::detail {
namespace {

static_assert(large_block_shards::kShards == 16, "the shard hashes take the top 4 bits");

// The calling thread's shard for own-page blocks, so that a thread finds the blocks it freed itself
// (the common case: a request's tensors come and go on one thread). glibc's pthread_t is the address
// of the thread's descriptor, constant for the thread and a page or more apart between threads; no
// thread_local is needed (this library is also linked into a malloc that may be loaded late).
std::size_t this_thread_shard() noexcept {
  const auto bits = std::uint64_t(static_cast<std::uintptr_t>(::pthread_self()) >> 12);
  return std::size_t((bits * 0x9E3779B97F4A7C15ull) >> 60);
}

}  // namespace

void* large_block_shards::allocate(std::size_t bytes, std::size_t alignment) {
  if (from_pages(alignment)) return allocate_pages(bytes, alignment);
  // acquire rejects sizes no upstream can honour (check_upstream_request) before asking it.
  void* p = direct_blocks::acquire(upstream_, bytes, alignment);  // may throw: nothing changed
  counters_->on_upstream_acquire(direct_blocks::held_bytes(p));
  shard& s = shard_of(p);
  counted_lock lock(s.mu, *counters_);
  s.blocks.link(p);
  return p;
}

void large_block_shards::deallocate(void* p, std::size_t alignment) noexcept {
  if (from_pages(alignment)) return deallocate_pages(p, alignment);
  const std::size_t held = direct_blocks::held_bytes(p);
  {
    shard& s = shard_of(p);
    counted_lock lock(s.mu, *counters_);
    s.blocks.unlink(p);
  }
  direct_blocks::give_back(upstream_, p);
  counters_->on_upstream_release(held);
}

void* large_block_shards::allocate_pages(std::size_t bytes, std::size_t alignment) {
  const std::size_t need = page_blocks::mapping_bytes(bytes, alignment);
  if (need == 0) throw std::bad_alloc();  // near SIZE_MAX: nothing changed
  const std::size_t index = this_thread_shard();
  shard& s = shards_[index];
  {
    counted_lock lock(s.mu, *counters_);
    if (const large_page_cache::mapping m = s.cache.take(need); m.base != nullptr) {
      // Already counted as held while kept; its pages are resident.
      void* user = page_blocks::place(m.base, m.bytes, alignment, index);
      s.pages.link(user, alignment);
      return user;
    }
  }
  void* base = map_kernel_pages(need, false);
  if (base == nullptr) throw std::bad_alloc();  // nothing changed
  mappings_made_.fetch_add(1, std::memory_order_relaxed);
  counters_->on_upstream_acquire(need);
  void* user = page_blocks::place(base, need, alignment, index);
  counted_lock lock(s.mu, *counters_);
  s.pages.link(user, alignment);
  return user;
}

void large_block_shards::deallocate_pages(void* p, std::size_t alignment) noexcept {
  // The block goes back to the shard it was allocated in: a block freed by another thread serves the
  // allocating thread's next request.
  shard& s = shards_[page_blocks::shard_of(p, alignment)];
  large_page_cache::evicted_list evicted;
  {
    counted_lock lock(s.mu, *counters_);
    const std::size_t mapped = page_blocks::mapped_of(p, alignment);
    s.pages.unlink(p, alignment);
    s.cache.put({page_blocks::base_of(p, alignment), mapped}, evicted);
  }
  unmap(evicted);
}

std::size_t large_block_shards::unmap(const large_page_cache::evicted_list& evicted) noexcept {
  std::size_t freed = 0;
  for (std::size_t i = 0; i < evicted.count; ++i) {
    unmap_kernel_pages(evicted.items[i].base, evicted.items[i].bytes);
    freed += evicted.items[i].bytes;
  }
  if (freed != 0) counters_->on_upstream_release(freed);
  return freed;
}

std::size_t large_block_shards::release_cached() noexcept {
  std::size_t freed = 0;
  for (shard& s : shards_) {
    large_page_cache::evicted_list kept;
    {
      counted_lock lock(s.mu, *counters_);
      s.cache.take_all(kept);
    }
    freed += unmap(kept);
  }
  return freed;
}

std::size_t large_block_shards::release_all() noexcept {
  std::size_t freed = release_cached();
  std::size_t released = 0;
  for (shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    released += s.blocks.release_all(upstream_);
    released += s.pages.unmap_all();
  }
  counters_->on_upstream_release(released);
  return freed + released;
}

std::size_t large_block_shards::count() const noexcept {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    n += s.blocks.count() + s.pages.count();
  }
  return n;
}

std::size_t large_block_shards::bytes_held() const noexcept {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    n += s.blocks.bytes() + s.pages.bytes() + s.cache.bytes();
  }
  return n;
}

std::size_t large_block_shards::bytes_cached() const noexcept {
  std::size_t n = 0;
  for (const shard& s : shards_) {
    counted_lock lock(s.mu, *counters_);
    n += s.cache.bytes();
  }
  return n;
}

}  // namespace allocbench::detail
