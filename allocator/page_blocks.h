// Large blocks on mappings of their own (large_block_shards, for a resource without an upstream),
// linked in a list so that release() and the destructor can unmap them.
//
//   mapping: [page_header ...padding...][user bytes ............][rest of the last page]
//            ^ base (page-aligned)       ^ base + header_offset(alignment)
//
// Alignments up to a page only (the mapping's own alignment); header_offset is the header rounded up
// to the alignment, computed again from the alignment on free, so free finds the header from the
// pointer and the alignment alone. The header also records the mapping's length (a block may sit on a
// reused mapping somewhat longer than it needs) and the shard whose list holds it.
//
// Not thread-safe: the owner links and unlinks under its shard's lock.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>

#include "allocator/header_list.h"
#include "allocator/kernel_pages.h"
#include "allocator/request.h"

namespace allocbench::detail {

class page_blocks {
 public:
  static constexpr std::size_t kMaxAlignment = kKernelPageBytes;

  page_blocks() = default;
  page_blocks(const page_blocks&) = delete;
  page_blocks& operator=(const page_blocks&) = delete;

  // Mapping lengths are rounded up to one of kStepsPerDoubling steps between two powers of two
  // (128 KiB, 160, 192, 224, 256, ...; whole pages below 16 pages): a block that grows a little at a
  // time (inference_kv's activation tensor, a few hundred bytes per token) keeps fitting the kept
  // mapping its last length had, where page rounding made every new page count a new mapping. The
  // unused tail of a mapping is never touched, so it costs address space, not resident pages.
  static constexpr std::size_t kStepsPerDoubling = 4;

  // The mapping length for a block of (bytes, alignment <= kMaxAlignment): whole pages, rounded to
  // a step (above); 0 where no mapping can have that many (the caller's bad_alloc).
  static std::size_t mapping_bytes(std::size_t bytes, std::size_t alignment) noexcept {
    const std::size_t offset = header_offset(alignment);
    if (bytes > kMaxMappingBytes - offset) return 0;
    const std::size_t pages = kernel_page_round(offset + bytes);
    const std::size_t step = std::bit_floor(pages) / kStepsPerDoubling;
    if (step <= kKernelPageBytes) return pages;
    return (pages + step - 1) & ~(step - 1);  // at most the next power of two: within kMaxMappingBytes
  }

  // Writes the header at `base` (a mapping of `mapped` bytes) and returns the user block.
  static void* place(void* base, std::size_t mapped, std::size_t alignment, std::size_t shard) noexcept {
    new (base) page_header{nullptr, nullptr, mapped, shard};
    return static_cast<std::byte*>(base) + header_offset(alignment);
  }

  static void* base_of(void* user, std::size_t alignment) noexcept {
    return static_cast<std::byte*>(user) - header_offset(alignment);
  }
  static std::size_t mapped_of(void* user, std::size_t alignment) noexcept {
    return header_of(user, alignment)->mapped;
  }
  static std::size_t shard_of(void* user, std::size_t alignment) noexcept {
    return header_of(user, alignment)->shard;
  }

  void link(void* user, std::size_t alignment) noexcept {
    page_header* h = header_of(user, alignment);
    list_.link(h, h->mapped);
  }
  void unlink(void* user, std::size_t alignment) noexcept {
    page_header* h = header_of(user, alignment);
    list_.unlink(h, h->mapped);
  }

  // Unmaps every linked block; returns the bytes unmapped.
  std::size_t unmap_all() noexcept {
    return list_.drain([](page_header* h) { unmap_kernel_pages(h, h->mapped); });
  }

  std::size_t count() const noexcept { return list_.count(); }
  std::size_t bytes() const noexcept { return list_.bytes(); }  // mapped bytes of linked blocks

 private:
  struct page_header {
    page_header* prev;
    page_header* next;
    std::size_t mapped;
    std::size_t shard;
  };

  static constexpr std::size_t header_offset(std::size_t alignment) noexcept {
    return round_up(sizeof(page_header), alignment > alignof(std::max_align_t) ? alignment : alignof(std::max_align_t));
  }
  static page_header* header_of(void* user, std::size_t alignment) noexcept {
    return static_cast<page_header*>(base_of(user, alignment));
  }

  header_list<page_header> list_;
};

}  // namespace allocbench::detail
