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

large_blocks::cached large_blocks::take_cached(std::size_t n) noexcept {
  std::lock_guard lock(mu_);
  for (std::size_t i = 0; i < cache_count_; ++i) {
    const cached c = cache_[i];
    if (c.bytes >= n && c.bytes - n <= n / 4) {
      cache_[i] = cache_[--cache_count_];
      __atomic_store_n(&cached_bytes_, cached_bytes_ - c.bytes, __ATOMIC_RELAXED);
      return c;
    }
  }
  return {nullptr, 0};
}

bool large_blocks::keep(void* p, std::size_t n, cached* surplus, std::size_t& surplus_count) noexcept {
  surplus_count = 0;
  if (n > kMaxCachedBytes) return false;
  std::lock_guard lock(mu_);
  const std::size_t limit = cache_limit(__atomic_load_n(&live_bytes_, __ATOMIC_RELAXED));
  // The newest free stays when it fits under the bound at all: it is the likeliest to be asked for
  // again, and others make way for it. Either way the cache ends within the bound (which falls as
  // the live bytes do).
  const bool fits = n <= limit;
  const std::size_t room = fits ? limit - n : limit;
  while (cache_count_ > 0 && (cached_bytes_ > room || (fits && cache_count_ == kCacheSlots))) {
    const cached other = cache_[0];
    cache_[0] = cache_[--cache_count_];
    surplus[surplus_count++] = other;
    __atomic_store_n(&cached_bytes_, cached_bytes_ - other.bytes, __ATOMIC_RELAXED);
  }
  if (!fits) return false;
  cache_[cache_count_++] = cached{p, n};
  __atomic_store_n(&cached_bytes_, cached_bytes_ + n, __ATOMIC_RELAXED);
  return true;
}

void* large_blocks::allocate(std::size_t bytes, std::size_t alignment, bool zero) noexcept {
  const std::size_t n = page_round(bytes == 0 ? 1 : bytes);
  if (n == 0) return nullptr;
  void* p = nullptr;
  std::size_t held = n;
  bool fresh = true;
  if (alignment <= kPageBytes && n <= kMaxCachedBytes) {
    const cached c = take_cached(n);
    if (c.p != nullptr) {
      p = c.p;
      held = c.bytes;
      fresh = false;
    }
  }
  if (p == nullptr) p = map_pages(n, alignment);
  if (p == nullptr) return nullptr;
  if (!pages_->set_first(p, code_for(held, alignment))) {
    unmap_pages(p, held);
    return nullptr;
  }
  if (zero && !fresh) std::memset(p, 0, held);  // fresh pages are zero already
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
  cached surplus[kCacheSlots];
  std::size_t surplus_count = 0;
  const bool kept = (code & page_code::kOverAligned) == 0 && keep(p, n, surplus, surplus_count);
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
