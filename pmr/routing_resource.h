// allocbench::routing_resource: sends each request to one of several child resources by its size and
// alignment, like a table of size ranges (small blocks to slabs, mid sizes to size classes, large ones
// to a best-fit heap).
//
// A request (bytes, alignment) goes to the first route with bytes <= max_size and
// alignment <= max_alignment; when none matches, to the fallback, or straight to upstream when there
// is no fallback. A deallocate applies the same rule to the same (bytes, alignment), so it reaches the
// child that served the allocate without any header or lookup.
//
// - The router owns its children. release() releases each child (and the direct blocks).
// - stats(): the children's figures summed, plus the router's own direct-to-upstream calls. Peaks
//   (peak_live_bytes, peak_bytes_held) are the sums of the children's peaks: an upper bound, since the
//   children need not peak together. `classes` has one entry per route (its label), then "fallback"
//   when there is one, or "upstream" (the direct calls) when there is none.
// - Allocation scopes (pmr/allocation_scope.h) that watch the router see every allocation through it
//   exactly once; scopes that watch a child see that child's share.
// - `checked` covers the direct-to-upstream blocks; each child checks its own. A checked direct
//   block takes 8 bytes more from upstream, for its canary.
// - `debug_pointer_guard` (off by default) puts every allocate and deallocate through one table behind
//   one lock, as the origin report's debug build did (pmr/debug_pointer_guard.h).
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocator/direct_blocks.h"
#include "allocator/invalid_free.h"
#include "allocator/checked_registry.h"
#include "pmr/debug_pointer_guard.h"
#include "pmr/instrumented_resource.h"

namespace allocbench {

struct route {
  std::size_t max_size;       // largest request (bytes) this route takes
  std::size_t max_alignment;  // largest alignment it takes; a power of two
  std::unique_ptr<instrumented_resource> resource;
  std::string label;          // the name of its entry in stats().classes; empty: the child's kind()
};

class routing_resource final : public instrumented_resource {
 public:
  // Throws std::invalid_argument when the routes are not sorted by max_size ascending (equal sizes
  // are allowed, e.g. the same size at two alignments), when a route has no resource or its
  // max_alignment is not a power of two, or when upstream is null. `fallback` may be null.
  routing_resource(std::vector<route> routes, std::unique_ptr<instrumented_resource> fallback,
                   std::pmr::memory_resource* upstream = std::pmr::get_default_resource(),
                   bool checked = checked_by_default(), bool debug_pointer_guard = false);
  ~routing_resource() override;

  resource_stats stats() const override;
  void release() override;
  // Flushes the children's quarantines and, in checked mode, its own (direct blocks).
  void flush_quarantine() override;
  std::string_view kind() const noexcept override { return "routing"; }

  const std::vector<route>& routes() const noexcept { return routes_; }
  instrumented_resource* fallback() const noexcept { return fallback_.get(); }
  std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

  // The child that serves (bytes, alignment), or nullptr for straight to upstream.
  instrumented_resource* target(std::size_t bytes, std::size_t alignment) const noexcept {
    for (const entry& e : table_) {
      if (bytes <= e.max_size && alignment <= e.max_alignment) return e.resource;
    }
    return fallback_.get();
  }

 private:
  // The routing table, packed for the scan (routes_ keeps the owning pointers and labels).
  struct entry {
    std::size_t max_size;
    std::size_t max_alignment;
    instrumented_resource* resource;
  };

  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;

  // The debug pointer guard's path: the child's (or upstream's) block, recorded in the guard.
  [[gnu::noinline]] void* allocate_guarded(instrumented_resource* child, std::size_t bytes,
                                           std::size_t alignment);
  [[gnu::noinline]] void* allocate_direct(std::size_t bytes, std::size_t alignment);
  // Not noexcept: in checked mode the invalid-free handler may throw.
  [[gnu::noinline]] void deallocate_direct(void* p, std::size_t bytes, std::size_t alignment);
  // A direct block leaving quarantine goes back to upstream (its free was counted).
  void give_back_direct(void* p) noexcept;
  void release_direct() noexcept;

  std::vector<route> routes_;
  std::vector<entry> table_;
  std::unique_ptr<instrumented_resource> fallback_;
  std::pmr::memory_resource* upstream_;
  std::mutex direct_mu_;  // guards direct_
  detail::direct_blocks direct_;
  std::optional<detail::checked_registry> registry_;  // direct blocks only
  std::unique_ptr<detail::debug_pointer_guard> guard_;  // null unless debug_pointer_guard

 public:
  // The guard's count of live blocks; 0 when there is no guard (for tests).
  std::size_t guarded_live_blocks() const { return guard_ ? guard_->live() : 0; }
};

}  // namespace allocbench
