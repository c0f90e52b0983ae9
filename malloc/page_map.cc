#include "malloc/page_map.h"

#include "malloc/os_pages.h"

namespace allocbench::malloc_detail {
namespace {
constexpr unsigned kRegionShift = page_map::kPageShift + page_map::kLeafBits;
}  // namespace

std::uint64_t* page_map::leaf_for(std::uintptr_t a) noexcept {
  std::uint64_t** slot = &root_[(a >> kRegionShift) & (kRootEntries - 1)];
  if (std::uint64_t* leaf = __atomic_load_n(slot, __ATOMIC_ACQUIRE)) return leaf;
  std::lock_guard lock(mu_);
  std::uint64_t* leaf = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (leaf == nullptr) {
    leaf = static_cast<std::uint64_t*>(map_pages(kLeafEntries * sizeof(std::uint64_t), kPageBytes));
    if (leaf != nullptr) __atomic_store_n(slot, leaf, __ATOMIC_RELEASE);
  }
  return leaf;
}

void page_map::store(std::uintptr_t first, std::uintptr_t end, std::uint64_t value) noexcept {
  for (std::uintptr_t page = first; page < end;) {
    std::uint64_t* leaf = __atomic_load_n(&root_[(page >> kLeafBits) & (kRootEntries - 1)], __ATOMIC_ACQUIRE);
    // This leaf's pages of the range: one leaf covers 2^kLeafBits pages.
    const std::uintptr_t leaf_end = ((page >> kLeafBits) + 1) << kLeafBits;
    const std::uintptr_t stop = end < leaf_end ? end : leaf_end;
    for (; page < stop; ++page) __atomic_store_n(&leaf[page & (kLeafEntries - 1)], value, __ATOMIC_RELAXED);
  }
}

bool page_map::set(const void* start, std::size_t bytes, std::uint64_t code) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(start);
  const std::uintptr_t first = a >> kPageShift;
  const std::uintptr_t end = (a + bytes + (std::uintptr_t(1) << kPageShift) - 1) >> kPageShift;
  // Every leaf first, so that a failure leaves nothing set (leaves already mapped stay: harmless).
  for (std::uintptr_t page = first; page < end; page = ((page >> kLeafBits) + 1) << kLeafBits) {
    if (leaf_for(page << kPageShift) == nullptr) return false;
  }
  store(first, end, code + 1);
  return true;
}

void page_map::clear(const void* start, std::size_t bytes) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(start);
  store(a >> kPageShift, (a + bytes + (std::uintptr_t(1) << kPageShift) - 1) >> kPageShift, 0);
}

std::size_t page_map::leaf_count() const noexcept {
  std::size_t n = 0;
  for (std::uint64_t* const& slot : root_) n += __atomic_load_n(&slot, __ATOMIC_RELAXED) != nullptr;
  return n;
}

}  // namespace allocbench::malloc_detail
