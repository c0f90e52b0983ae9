#include "malloc/span_pages.h"

#include <sys/mman.h>

#include <bit>

#include "malloc/os_pages.h"

namespace allocbench::malloc_detail {

bool span_pages::pooled(std::size_t bytes) noexcept {
  return std::has_single_bit(bytes) && bytes >= (std::size_t(1) << kMinShift) && bytes <= kMaxPooledBytes;
}

unsigned span_pages::index_of(std::size_t bytes) noexcept {
  return unsigned(std::countr_zero(bytes)) - kMinShift;
}

void* span_pages::carve(size_state& s, std::size_t bytes) noexcept {
  if (s.bump == s.bump_end) {
    // A region aligned to itself, so every span carved from it is aligned to its size.
    void* region = map_pages(kRegionBytes, kRegionBytes);
    if (region == nullptr) return nullptr;
    s.bump = static_cast<std::byte*>(region);
    s.bump_end = s.bump + kRegionBytes;
    __atomic_store_n(&reserved_, reserved_ + kRegionBytes, __ATOMIC_RELAXED);
  }
  void* span = s.bump;
  s.bump += bytes;  // bytes divides kRegionBytes: the region ends on a span boundary
  return span;
}

void* span_pages::get(std::size_t bytes) noexcept {
  if (!pooled(bytes)) return map_pages(bytes, bytes);
  size_state& s = sizes_[index_of(bytes)];
  std::lock_guard lock(mu_);
  if (free_span* f = s.dirty) {
    s.dirty = f->next;
    __atomic_store_n(&dirty_bytes_, dirty_bytes_ - bytes, __ATOMIC_RELAXED);
    return f;
  }
  if (s.clean_count > 0) return s.clean[--s.clean_count];  // faults back in, zeroed, as it is used
  return carve(s, bytes);
}

void span_pages::put(void* span, std::size_t bytes) noexcept {
  if (!pooled(bytes)) return unmap_pages(span, bytes);
  size_state& s = sizes_[index_of(bytes)];
  {
    std::lock_guard lock(mu_);
    if (dirty_bytes_ + bytes <= kDirtyBytes) {
      auto* f = static_cast<free_span*>(span);
      f->next = s.dirty;
      s.dirty = f;
      __atomic_store_n(&dirty_bytes_, dirty_bytes_ + bytes, __ATOMIC_RELAXED);
      return;
    }
  }
  // Past the resident allowance: the pages go back to the kernel (outside the lock: a system call),
  // the addresses stay reserved for the next span of this size.
  madvise(span, bytes, MADV_DONTNEED);
  {
    std::lock_guard lock(mu_);
    if (s.clean_count < kCleanSlots) {
      s.clean[s.clean_count++] = span;
      return;
    }
  }
  unmap_pages(span, bytes);  // the stack is full (a huge peak now gone): let the range go too
  std::lock_guard lock(mu_);
  __atomic_store_n(&reserved_, reserved_ - bytes, __ATOMIC_RELAXED);
}

}  // namespace allocbench::malloc_detail
