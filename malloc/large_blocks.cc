#include "malloc/large_blocks.h"

#include <cstring>

#include "malloc/os_pages.h"

namespace allocbench::malloc_detail {
namespace {

std::uint64_t code_for(std::size_t n, std::size_t alignment) noexcept {
  return page_code::kLarge | n | (alignment > kPageBytes ? page_code::kOverAligned : 0);
}

std::size_t length_of(std::uint64_t code) noexcept { return std::size_t(code & page_code::kLengthMask); }

}  // namespace

std::size_t large_blocks::limit_locked() const noexcept {
  return cache_limit(__atomic_load_n(&live_bytes_, __ATOMIC_RELAXED));
}

large_blocks::cached large_blocks::take_cached_locked(std::size_t n) noexcept {
  // The mapping nearest n in length: the fewest pages split off (they stay cached) or added.
  std::size_t best = cache_count_;
  std::size_t best_gap = ~std::size_t(0);
  for (std::size_t i = 0; i < cache_count_; ++i) {
    const std::size_t b = cache_[i].bytes;
    const std::size_t gap = b >= n ? b - n : n - b;
    if (gap < best_gap) {
      best = i;
      best_gap = gap;
    }
  }
  if (best == cache_count_) return {nullptr, 0};
  cached c = cache_[best];
  if (c.bytes >= n && c.bytes - n > n / 4) {
    cache_[best] = cached{static_cast<char*>(c.p) + n, c.bytes - n};  // no system call
    c.bytes = n;
  } else {
    cache_[best] = cache_[--cache_count_];
  }
  __atomic_store_n(&cached_bytes_, cached_bytes_ - c.bytes, __ATOMIC_RELAXED);
  return c;
}

void large_blocks::trim_locked(std::size_t room, cached* surplus, std::size_t& surplus_count) noexcept {
  const std::size_t limit = limit_locked();
  const std::size_t keep = limit > room ? limit - room : 0;
  while (cache_count_ > 0 && (cached_bytes_ > keep || (room != 0 && cache_count_ == kCacheSlots))) {
    const cached other = cache_[0];  // not the newest: it is the likeliest to be asked for again
    cache_[0] = cache_[--cache_count_];
    surplus[surplus_count++] = other;
    __atomic_store_n(&cached_bytes_, cached_bytes_ - other.bytes, __ATOMIC_RELAXED);
  }
}

void* large_blocks::allocate(std::size_t bytes, std::size_t alignment, bool zero) noexcept {
  const std::size_t n = page_round(bytes == 0 ? 1 : bytes);
  if (n == 0) return nullptr;
  cached c{nullptr, 0};
  if (alignment <= kPageBytes && n <= kMaxCachedBytes) {
    std::lock_guard lock(mu_);
    c = take_cached_locked(n);
  }
  void* p = nullptr;
  std::size_t held = n;
  std::size_t reused = 0;  // bytes at p's start that were a freed block's (fresh pages are zero)
  if (c.bytes >= n) {
    p = c.p;
    held = c.bytes;
    reused = held;
  } else if (c.p != nullptr) {
    p = remap_pages(c.p, c.bytes, n);  // shorter: grown, perhaps moved; only the added pages are new
    if (p == nullptr) unmap_pages(c.p, c.bytes);
    else reused = c.bytes;
  }
  if (p == nullptr) p = map_pages(n, alignment);
  if (p == nullptr) return nullptr;
  if (!pages_->set_first(p, code_for(held, alignment))) {
    unmap_pages(p, held);
    return nullptr;
  }
  if (zero && reused != 0) std::memset(p, 0, reused);
  __atomic_fetch_add(&allocations_, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&live_bytes_, held, __ATOMIC_RELAXED);
  return p;
}

void large_blocks::deallocate(void* p, std::uint64_t code) noexcept {
  const std::size_t n = length_of(code);
  pages_->clear(p, 1);  // before the pages can go: another mapping may get the address at once
  __atomic_fetch_add(&deallocations_, 1, __ATOMIC_RELAXED);
  __atomic_fetch_sub(&live_bytes_, n, __ATOMIC_RELAXED);
  // Over-aligned mappings are not kept: a later request of the same length may need less alignment,
  // but its block would then read as over-aligned and never grow by mremap.
  const bool may_keep = (code & page_code::kOverAligned) == 0 && n <= kMaxCachedBytes;
  cached surplus[kCacheSlots];
  std::size_t surplus_count = 0;
  bool kept = false;
  {
    std::lock_guard lock(mu_);
    // The newest free stays when it fits under the bound at all; older ones make way for it.
    kept = may_keep && n <= limit_locked();
    trim_locked(kept ? n : 0, surplus, surplus_count);
    if (kept) {
      cache_[cache_count_++] = cached{p, n};
      __atomic_store_n(&cached_bytes_, cached_bytes_ + n, __ATOMIC_RELAXED);
    }
  }
  for (std::size_t i = 0; i < surplus_count; ++i) unmap_pages(surplus[i].p, surplus[i].bytes);
  if (!kept) unmap_pages(p, n);
}

void* large_blocks::resize(void* p, std::uint64_t code, std::size_t bytes) noexcept {
  if ((code & page_code::kOverAligned) != 0) return nullptr;
  const std::size_t old_n = length_of(code);
  const std::size_t n = page_round(bytes);
  if (n == 0) return nullptr;
  if (n == old_n) return p;
  pages_->clear(p, 1);
  void* q = remap_pages(p, old_n, n);
  if (q == nullptr) {
    pages_->set_first(p, code);  // its leaf exists: this cannot fail
    return nullptr;
  }
  // Only a new leaf can fail (the kernel refused 2 MiB): the block is then beyond recording, and a
  // malloc out of memory to that degree stops the program rather than lose it.
  if (!pages_->set_first(q, code_for(n, kPageBytes))) __builtin_trap();
  if (n > old_n) __atomic_fetch_add(&live_bytes_, n - old_n, __ATOMIC_RELAXED);
  else __atomic_fetch_sub(&live_bytes_, old_n - n, __ATOMIC_RELAXED);
  return q;
}

}  // namespace allocbench::malloc_detail
