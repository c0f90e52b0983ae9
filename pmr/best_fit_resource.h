// allocbench::best_fit_resource: a general-purpose resource for large blocks of any size.
//
// Memory comes from upstream in regions (`region_bytes`, 1 MiB by default; larger when one request
// needs more), each carved into adjacent blocks with boundary tags (allocator/boundary_tags.h). An
// allocation takes the smallest free block that fits (best fit, allocator/free_block_index.h), splits
// off the rest when the rest is worth keeping (64 bytes or more), and a free merges the block with
// its free neighbours on either side (coalescing), so free space does not splinter. The design follows
// the well-known best-fit-with-coalescing family (TensorFlow's BFC allocator among them).
//
// - Every block has a 16-byte tag just below the pointer handed out. Alignment up to 16 costs
//   nothing; a larger one (up to 4096) is met by splitting a free block so that the payload lands on
//   the alignment, the part in front becoming a free block of its own. The lookup for such a request
//   asks for size + alignment + 32 bytes unless the best fit for the bare size happens to fit already.
// - Requests above `direct_threshold` (256 KiB by default), or with alignment above 4096, go straight
//   to upstream with a small header, tracked so that release() and the destructor return them too.
//   A deallocate tells the two paths apart by the same rule, from (bytes, alignment) alone.
// - `release_empty_regions`: give a region back to upstream as soon as it is entirely free (off by
//   default: a workload that keeps one large block cycling would otherwise call upstream every time).
// - One mutex guards everything; acquisitions that find it taken count as contention. Upstream calls
//   for new regions and direct blocks happen outside it.
// - stats(): `usable` is the block's payload after rounding and splitting (its size less the tag);
//   `bytes_held` counts regions and direct blocks; `classes` has two entries, "regions" and "direct".
#pragma once

#include <cstddef>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string_view>

#include "allocator/boundary_tags.h"
#include "allocator/direct_blocks.h"
#include "allocator/free_block_index.h"
#include "allocator/invalid_free.h"
#include "allocator/checked_registry.h"
#include "pmr/instrumented_resource.h"

namespace allocbench {

struct best_fit_options {
  std::size_t region_bytes = 1 << 20;        // rounded up to a multiple of 4096; must not be 0
  std::size_t direct_threshold = 256 * 1024;  // larger requests go straight to upstream
  bool release_empty_regions = false;         // give a region back to upstream once fully free
  // Checked mode (invalid_free.h): the canary takes the room between the requested size and the
  // payload (rounded up to 16 bytes); a direct block gets 8 bytes more from upstream for it.
  bool checked = checked_by_default();
};

class best_fit_resource final : public instrumented_resource {
 public:
  // Throws std::invalid_argument for region_bytes == 0 or a null upstream.
  explicit best_fit_resource(best_fit_options options = {},
                             std::pmr::memory_resource* upstream = std::pmr::get_default_resource());
  ~best_fit_resource() override;

  resource_stats stats() const override;
  void release() override;
  std::string_view kind() const noexcept override { return "best_fit"; }

  const best_fit_options& options() const noexcept { return options_; }
  std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

  // Checked mode: gives every quarantined block back now, checking its fill. Nothing when unchecked.
  void flush_quarantine() override;

  // A view of the free space, for tests and reports (takes the lock).
  struct free_space {
    std::size_t regions = 0;        // regions held from upstream
    std::size_t free_blocks = 0;    // blocks in the free index
    std::size_t free_bytes = 0;     // their total size, tags included
    std::size_t largest_free = 0;   // the largest of them, tag included
    std::size_t direct_blocks = 0;  // blocks passed straight to upstream and still live
  };
  free_space inspect() const;

 private:
  struct region_header {
    region_header* prev;
    region_header* next;
    std::size_t bytes;
    std::size_t reserved;  // keeps the first tag 16-byte aligned
  };
  static constexpr std::size_t kRegionAlignment = 4096;
  static constexpr std::size_t kMinSplitBytes = 64;

  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;

  bool is_direct(std::size_t bytes, std::size_t alignment) const noexcept {
    return bytes > options_.direct_threshold || alignment > detail::kMaxHonouredAlignment;
  }
  static std::size_t block_bytes_for(std::size_t bytes);

  [[gnu::noinline]] void* allocate_direct(std::size_t bytes, std::size_t alignment);
  void deallocate_direct(void* p, bool counted) noexcept;
  // Allocates a new region that fits the request and carves the block from it.
  [[gnu::noinline]] detail::block_tag* grow_and_take(std::size_t need, std::size_t padded,
                                                     std::size_t alignment);
  void give_back_region(region_header* r) noexcept;
  [[gnu::noinline]] void deallocate_checked(void* p, std::size_t bytes, std::size_t alignment);
  // A block leaving quarantine goes back to the free index or upstream (its free was counted).
  void give_back_quarantined(const detail::checked_block& b) noexcept;

  std::unique_lock<std::mutex> lock();
  // Under the lock: a block of `need` bytes whose payload has `alignment`, or nullptr. `padded` is
  // a size that fits whatever the payload's address.
  detail::block_tag* take_locked(std::size_t need, std::size_t padded, std::size_t alignment) noexcept;
  detail::block_tag* carve_locked(detail::block_tag* b, std::size_t need, std::size_t alignment) noexcept;
  // Under the lock: merges `b` with its free neighbours and files it; returns a region that became
  // entirely free and was unlinked (to give back outside the lock), or nullptr.
  region_header* free_locked(detail::block_tag* b) noexcept;
  void insert_free_locked(detail::block_tag* b) noexcept;  // poisons it (asan builds), then indexes it
  void link_region_locked(region_header* r) noexcept;
  void unlink_region_locked(region_header* r) noexcept;
  void release_locked() noexcept;

  best_fit_options options_;
  std::pmr::memory_resource* upstream_;
  mutable std::mutex mu_;
  detail::free_block_index free_;
  region_header* regions_ = nullptr;
  std::size_t region_count_ = 0;
  std::size_t region_bytes_held_ = 0;
  detail::direct_blocks direct_;
  // Per-path counts for stats().classes, under mu_.
  std::uint64_t region_allocations_ = 0;
  std::uint64_t region_deallocations_ = 0;
  std::uint64_t direct_allocations_ = 0;
  std::uint64_t direct_deallocations_ = 0;
  std::optional<detail::checked_registry> registry_;
};

}  // namespace allocbench
