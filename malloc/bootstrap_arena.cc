#include "malloc/bootstrap_arena.h"

#include <bit>

#include "malloc/os_pages.h"

namespace allocbench::malloc_detail {
namespace {

struct header {
  std::uint64_t class_index;
  std::uint64_t offset;  // of the pointer handed out from the block's start
};

header* header_of(const void* p) noexcept {
  return reinterpret_cast<header*>(static_cast<std::byte*>(const_cast<void*>(p)) - sizeof(header));
}

}  // namespace

void* bootstrap_arena::allocate(std::size_t bytes, std::size_t alignment) noexcept {
  if (bytes > kMaxBytes || alignment > kMaxAlignment) return nullptr;
  // Room for the header below an aligned pointer: blocks start 16-byte aligned.
  const std::size_t pad = alignment > kHeader ? alignment : kHeader;
  const std::size_t need = bytes + pad;
  const std::size_t total = std::bit_ceil(need < (std::size_t(1) << kMinShift) ? std::size_t(1) << kMinShift : need);
  const unsigned c = unsigned(std::countr_zero(total)) - kMinShift;
  std::lock_guard lock(mu_);
  std::byte* block;
  if (free_[c] != nullptr) {
    block = reinterpret_cast<std::byte*>(free_[c]);
    free_[c] = free_[c]->next;
  } else {
    if (std::size_t(bump_end_ - bump_) < total) {
      // The rest of the chunk stays unused: these blocks are few.
      void* chunk = map_pages(kChunkBytes, kPageBytes);
      if (chunk == nullptr) return nullptr;
      if (!pages_->set(chunk, kChunkBytes, page_code::kMeta)) {
        unmap_pages(chunk, kChunkBytes);
        return nullptr;
      }
      bump_ = static_cast<std::byte*>(chunk);
      bump_end_ = bump_ + kChunkBytes;
      __atomic_store_n(&mapped_, mapped_ + kChunkBytes, __ATOMIC_RELAXED);
    }
    block = bump_;
    bump_ += total;
  }
  const auto start = reinterpret_cast<std::uintptr_t>(block);
  const std::uintptr_t user = (start + kHeader + alignment - 1) & ~(std::uintptr_t(alignment) - 1);
  *header_of(reinterpret_cast<void*>(user)) = header{c, user - start};
  __atomic_store_n(&live_, live_ + 1, __ATOMIC_RELAXED);
  return reinterpret_cast<void*>(user);
}

void bootstrap_arena::deallocate(void* p) noexcept {
  const header h = *header_of(p);
  std::byte* block = static_cast<std::byte*>(p) - h.offset;
  const std::uint64_t c = h.class_index;
  std::lock_guard lock(mu_);
  auto* f = reinterpret_cast<free_block*>(block);
  f->next = free_[c];
  free_[c] = f;
  __atomic_store_n(&live_, live_ - 1, __ATOMIC_RELAXED);
}

std::size_t bootstrap_arena::usable_size(const void* p) noexcept {
  const header* h = header_of(p);
  return (std::size_t(1) << (h->class_index + kMinShift)) - h->offset;
}

}  // namespace allocbench::malloc_detail
