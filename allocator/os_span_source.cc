#include "allocator/os_span_source.h"


#include <bit>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "allocator/kernel_pages.h"

namespace allocbench::detail {
namespace {

constexpr std::size_t kPage = kKernelPageBytes;
constexpr std::size_t kMaxBytes = kMaxMappingBytes;

std::size_t span_size(std::size_t bytes, std::size_t alignment) {
  if (!std::has_single_bit(alignment)) {
    throw std::invalid_argument("os_span_source: alignment " + std::to_string(alignment) +
                                " is not a power of two");
  }
  if (bytes > kMaxBytes || alignment > kMaxBytes) throw std::bad_alloc();
  std::size_t size = bytes < alignment ? alignment : bytes;
  if (size < kPage) size = kPage;
  return std::bit_ceil(size);
}

std::size_t index_of(std::size_t size) noexcept { return std::size_t(std::countr_zero(size)) - 12; }

}  // namespace

os_span_source::~os_span_source() {
  for (const region& r : regions_) unmap_kernel_pages(r.base, r.bytes);
  // Own mappings still out belong to a heap that is being destroyed with this source: the heap gives
  // them back first (span_arena::release_all), so none is left here.
}

std::size_t os_span_source::bytes_out() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_out_;
}

std::size_t os_span_source::bytes_mapped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return regions_.size() * kRegionBytes + own_mapped_;
}

std::size_t os_span_source::bytes_kept_resident() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return kept_bytes_;
}

void os_span_source::set_clock(resident_allowance::clock_fn clock) {
  std::lock_guard<std::mutex> lock(mutex_);
  allowance_.set_clock(clock);
}

os_span_source::excess_spans os_span_source::take_excess_locked() noexcept {
  constexpr std::size_t kBatch = resident_allowance::kTrimBatch;
  excess_spans out;
  std::size_t excess = allowance_.excess(kept_bytes_);
  for (std::size_t index = kCarvedSizes; index-- > 0 && excess > 0 && out.count < kBatch;) {
    const std::size_t size = std::size_t(4096) << index;
    std::vector<void*>& kept = kept_[index];
    while (!kept.empty() && excess > 0 && out.count < kBatch) {
      out.span[out.count] = kept.back();
      out.bytes[out.count++] = size;
      kept.pop_back();
      kept_bytes_ -= size;
      excess = excess > size ? excess - size : 0;
    }
  }
  return out;
}

os_span_source::excess_spans os_span_source::hand_out_locked(std::size_t size) noexcept {
  bytes_out_ += size;
  allowance_.taken(size);
  // A fresh span raises bytes out: kept spans of other sizes may now stand past the peak.
  return take_excess_locked();
}

void os_span_source::give_excess_back(excess_spans excess) noexcept {
  while (excess.count > 0) {
    for (std::size_t i = 0; i < excess.count; ++i) give_pages_back(excess.span[i], excess.bytes[i]);
    std::lock_guard<std::mutex> lock(mutex_);
    excess = take_excess_locked();
  }
}

std::size_t os_span_source::release_resident() noexcept {
  std::size_t released = 0;
  for (std::size_t index = 0; index < kCarvedSizes; ++index) {
    const std::size_t size = std::size_t(4096) << index;
    for (;;) {
      void* p;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (kept_[index].empty()) break;
        p = kept_[index].back();
        kept_[index].pop_back();
        kept_bytes_ -= size;
      }
      give_pages_back(p, size);
      released += size;
    }
  }
  return released;
}

void os_span_source::give_pages_back(void* p, std::size_t size) noexcept {
  discard_kernel_pages(p, size);
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    free_[index_of(size)].push_back(p);
  } catch (const std::bad_alloc&) {
    // No room to remember it: the range leaves the region for good (the region's munmap later
    // covers the hole harmlessly).
    unmap_kernel_pages(p, size);
  }
}

void* os_span_source::take_locked(std::size_t bytes, std::size_t index) {
  if (std::vector<void*>& kept = kept_[index]; !kept.empty()) {
    void* p = kept.back();
    kept.pop_back();
    kept_bytes_ -= bytes;
    return p;
  }
  if (std::vector<void*>& spare = free_[index]; !spare.empty()) {
    void* p = spare.back();
    spare.pop_back();
    return p;
  }
  if (bump_ == nullptr) return nullptr;
  // The next multiple of the span's size: what is skipped is address space only (never touched).
  const auto addr = reinterpret_cast<std::uintptr_t>(bump_);
  const std::uintptr_t start = (addr + bytes - 1) & ~std::uintptr_t(bytes - 1);
  if (start + bytes > reinterpret_cast<std::uintptr_t>(end_)) return nullptr;
  bump_ = reinterpret_cast<char*>(start + bytes);
  return reinterpret_cast<void*>(start);
}

void* os_span_source::do_allocate(std::size_t bytes, std::size_t alignment) {
  const std::size_t size = span_size(bytes, alignment);
  if (size > kMaxCarvedBytes) {
    void* p = map_kernel_pages_aligned(size);
    if (p == nullptr) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mutex_);
    own_mapped_ += size;
    bytes_out_ += size;
    return p;
  }
  const std::size_t index = index_of(size);
  void* p = nullptr;
  excess_spans excess;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if ((p = take_locked(size, index)) != nullptr) excess = hand_out_locked(size);
  }
  if (p != nullptr) {
    give_excess_back(excess);
    return p;
  }
  // A new region, mapped outside the lock. Another thread may have added one meanwhile: the rest of
  // the region being carved is then left as unused address space.
  char* base = static_cast<char*>(map_kernel_pages(kRegionBytes, true));
  if (base == nullptr) throw std::bad_alloc();
  std::unique_lock<std::mutex> lock(mutex_);
  if (regions_.size() == regions_.capacity()) {
    try {
      regions_.reserve(regions_.size() + 1);
    } catch (...) {
      unmap_kernel_pages(base, kRegionBytes);
      throw;
    }
  }
  regions_.push_back(region{base, kRegionBytes});
  bump_ = base;
  end_ = base + kRegionBytes;
  p = take_locked(size, index);  // size <= kRegionBytes / 8 always fits a fresh region
  excess = hand_out_locked(size);
  lock.unlock();
  give_excess_back(excess);
  return p;
}

void os_span_source::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  const std::size_t size = span_size(bytes, alignment);
  if (size > kMaxCarvedBytes) {
    unmap_kernel_pages(p, size);
    std::lock_guard<std::mutex> lock(mutex_);
    own_mapped_ -= size;
    bytes_out_ -= size;
    return;
  }
  bool kept = false;
  excess_spans excess;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    bytes_out_ -= size;
    allowance_.given(size);
    if (allowance_.may_keep(kept_bytes_, size)) {
      // Kept with its pages. push_back may throw only when the list must grow: the span then goes
      // the other way.
      try {
        kept_[index_of(size)].push_back(p);
        kept_bytes_ += size;
        kept = true;
      } catch (const std::bad_alloc&) {
      }
    }
    excess = take_excess_locked();  // the peak may have decayed since the last call
  }
  // The pages go back now; the range stays ours and reads as zeros when it is next handed out.
  if (!kept) give_pages_back(p, size);
  give_excess_back(excess);
}

}  // namespace allocbench::detail
