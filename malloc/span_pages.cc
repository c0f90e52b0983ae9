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
  void* span = nullptr;
  free_span* excess = nullptr;
  {
    std::lock_guard lock(mu_);
    allowance_.taken(bytes);
    if (free_span* f = s.dirty) {
      s.dirty = f->next;
      __atomic_store_n(&dirty_bytes_, dirty_bytes_ - bytes, __ATOMIC_RELAXED);
      span = f;
    } else if (s.clean_count > 0) {
      span = s.clean[--s.clean_count];  // faults back in, zeroed, as it is used
    } else {
      span = carve(s, bytes);
    }
    if (span == nullptr) {
      allowance_.given(bytes);
      return nullptr;
    }
    // A fresh span raises in-use: kept spans of other sizes may now stand past the peak.
    excess = take_excess();
  }
  release(excess);
  return span;
}

void span_pages::put(void* span, std::size_t bytes) noexcept {
  if (!pooled(bytes)) return unmap_pages(span, bytes);
  size_state& s = sizes_[index_of(bytes)];
  auto* f = static_cast<free_span*>(span);
  free_span* excess = nullptr;
  {
    std::lock_guard lock(mu_);
    allowance_.given(bytes);
    if (allowance_.may_keep(dirty_bytes_, bytes)) {
      f->next = s.dirty;
      s.dirty = f;
      __atomic_store_n(&dirty_bytes_, dirty_bytes_ + bytes, __ATOMIC_RELAXED);
      f = nullptr;
    }
    excess = take_excess();  // the peak may have decayed since the last call
  }
  if (f != nullptr) {
    // Past the resident allowance: the pages go back to the kernel (outside the lock: a system
    // call), the addresses stay reserved for the next span of this size.
    f->next = excess;
    f->bytes = bytes;
    excess = f;
  }
  release(excess);
}

span_pages::free_span* span_pages::take_excess() noexcept {
  constexpr std::size_t kBatch = detail::resident_allowance::kTrimBatch;
  std::size_t excess = allowance_.excess(dirty_bytes_);
  free_span* chain = nullptr;
  std::size_t n = 0;
  for (unsigned i = kSizes; i-- > 0 && excess > 0 && n < kBatch;) {
    const std::size_t bytes = std::size_t(1) << (i + kMinShift);
    size_state& s = sizes_[i];
    while (s.dirty != nullptr && excess > 0 && n < kBatch) {
      free_span* f = s.dirty;
      s.dirty = f->next;
      __atomic_store_n(&dirty_bytes_, dirty_bytes_ - bytes, __ATOMIC_RELAXED);
      excess = excess > bytes ? excess - bytes : 0;
      f->bytes = bytes;
      f->next = chain;
      chain = f;
      ++n;
    }
  }
  return chain;
}

void span_pages::release(free_span* chain) noexcept {
  while (chain != nullptr) {
    while (chain != nullptr) {
      free_span* next = chain->next;  // read before the pages go: they read as zeros after
      const std::size_t bytes = chain->bytes;
      madvise(chain, bytes, MADV_DONTNEED);
      keep_released(chain, bytes);
      chain = next;
    }
    std::lock_guard lock(mu_);
    chain = take_excess();  // a batch at a time: the lock is never held for many spans
  }
}

void span_pages::keep_released(void* span, std::size_t bytes) noexcept {
  {
    std::lock_guard lock(mu_);
    size_state& s = sizes_[index_of(bytes)];
    if (s.clean_count < kCleanSlots) {
      s.clean[s.clean_count++] = span;
      return;
    }
  }
  unmap_pages(span, bytes);  // the stack is full (a huge peak now gone): let the range go too
  std::lock_guard lock(mu_);
  __atomic_store_n(&reserved_, reserved_ - bytes, __ATOMIC_RELAXED);
}

std::size_t span_pages::in_use_bytes() noexcept {
  std::lock_guard lock(mu_);
  return allowance_.in_use_bytes();
}

std::size_t span_pages::peak_bytes() noexcept {
  std::lock_guard lock(mu_);
  return allowance_.peak_bytes();
}

void span_pages::set_clock(detail::resident_allowance::clock_fn clock) noexcept {
  std::lock_guard lock(mu_);
  allowance_.set_clock(clock);
}

}  // namespace allocbench::malloc_detail
