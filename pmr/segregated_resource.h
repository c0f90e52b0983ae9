// allocbench::segregated_resource: size classes, each a pool of equal-sized blocks with its own free
// list, under one of three locking schemes.
//
// A request goes to the smallest class whose size is >= the request and whose block alignment is >=
// the requested alignment (a class's block alignment: the largest power of two dividing its stride,
// capped at 4096; the stride is the class size rounded up to a multiple of 8, so for the usual classes
// it is the largest power of two dividing the class size). When no class fits, allocate throws
// std::bad_alloc and changes nothing; a non-power-of-two alignment throws std::invalid_argument.
// allocate(0) gets a block of the smallest class.
//
// Memory comes from upstream in chunks of chunk_bytes per class, aligned to the class's block alignment.
// Nothing goes back upstream before release() or the destructor.
//
// lock_mode:
// - global: one mutex guards every list and every refill (the origin report's baseline).
// - per_class: a mutex per class for its list; refills from upstream additionally take one global
//   refill lock, so refills of different classes serialise (the report's "sharded" design, kept to
//   reproduce its results).
// - per_class_arena: each class owns its chunks and refills under its own lock only. Upstream calls of
//   different classes may then run at once, so the upstream must be thread-safe (the default resource
//   is); the other two modes make at most one upstream call at a time.
// contention_events in stats counts lock acquisitions (list or refill lock) that found the lock taken.
#pragma once

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string_view>
#include <vector>

#include "allocator/counted_mutex.h"
#include "allocator/invalid_free.h"
#include "allocator/checked_registry.h"
#include "pmr/instrumented_resource.h"
#include "pmr/resource_stats.h"

namespace allocbench {

enum class lock_mode { global, per_class, per_class_arena };

// "global", "per_class", "per_class_arena".
std::string_view to_string(lock_mode mode) noexcept;
// The mode of that name, or nullopt.
std::optional<lock_mode> parse_lock_mode(std::string_view name) noexcept;

struct segregated_options {
  std::vector<std::size_t> classes = {32, 64, 128, 256, 512, 1024, 2048, 4096};  // strictly ascending, >= 1
  lock_mode mode = lock_mode::per_class_arena;
  std::size_t chunk_bytes = 64 * 1024;  // upstream refill size per class: largest class stride .. 1 GiB
  // Checked mode (invalid_free.h): the canary takes the room between the requested size and the
  // class size (up to 8 bytes; none for a request of exactly a class size).
  bool checked = checked_by_default();
};

class segregated_resource final : public instrumented_resource {
 public:
  // What class_index returns when no class fits.
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // Throws std::invalid_argument naming the option when one is invalid.
  explicit segregated_resource(segregated_options options = {},
                               std::pmr::memory_resource* upstream = std::pmr::get_default_resource());
  ~segregated_resource() override;

  // The largest class size: no larger request is served.
  std::size_t max_size() const noexcept { return sizes_.back(); }
  // The index in classes() of the class a request goes to, or npos when none fits.
  std::size_t class_index(std::size_t bytes, std::size_t alignment) const noexcept;
  // Block alignment of class `index` (see the header comment).
  std::size_t class_alignment(std::size_t index) const noexcept { return alignments_[index]; }
  lock_mode mode() const noexcept { return mode_; }
  const std::vector<std::size_t>& classes() const noexcept { return sizes_; }

  // Checked mode: gives every quarantined block back now, checking its fill. Nothing when unchecked.
  void flush_quarantine() override;

  // One class_stats per class, in class order (name = the class size as text).
  resource_stats stats() const override;
  void release() override;
  std::string_view kind() const noexcept override { return "segregated"; }

 private:
  struct size_class;  // allocator/block_pool.h plus its lock and counts; defined in the .cc

  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;

  detail::counted_mutex& list_mutex(size_class& c) noexcept;
  [[gnu::noinline]] void* refill_and_pop(size_class& c);
  [[gnu::noinline]] void* allocate_checked(size_class& c, std::size_t bytes, std::size_t alignment);
  [[gnu::noinline]] void deallocate_checked(void* p, std::size_t bytes, std::size_t alignment);
  // A block leaving quarantine back on its class's list (its free was counted already).
  void give_back_quarantined(const detail::checked_block& b) noexcept;
  [[gnu::noinline]] void reject_unfit_free(void* p, std::size_t bytes, std::size_t alignment);
  void push_block(size_class& c, void* p) noexcept;

  std::vector<std::size_t> sizes_;       // class sizes, ascending
  std::vector<std::size_t> alignments_;  // block alignment per class
  lock_mode mode_;
  bool checked_;
  std::vector<std::unique_ptr<size_class>> classes_;
  detail::counted_mutex global_mutex_;  // every list in global mode
  detail::counted_mutex refill_mutex_;  // every refill in per_class mode
  std::unique_ptr<detail::checked_registry> registry_;  // null unless checked
};

}  // namespace allocbench
