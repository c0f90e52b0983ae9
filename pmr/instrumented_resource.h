// allocbench::instrumented_resource: the base of every resource of ours.
//
// A std::pmr::memory_resource that also reports statistics (stats()), can give all its upstream
// memory back (release()), and compares equal only to itself.
//
// Contract shared by every derived resource:
// - alignment must be a power of two, else allocate throws std::invalid_argument;
// - alignments up to 4096 are honoured;
// - allocate(0) returns a valid, distinct pointer that must be deallocated like any other;
// - a size that cannot be served (including sizes near SIZE_MAX, where size + alignment overflows)
//   throws std::bad_alloc and changes nothing;
// - an upstream that throws leaves the resource usable and leak-free;
// - deallocate takes the same size and alignment as the allocate did;
// - release() and the destructor give every byte back to upstream; blocks handed out become invalid.
#pragma once

#include <memory_resource>
#include <string_view>

#include "allocator/scope_hooks.h"
#include "allocator/stats_counters.h"
#include "pmr/resource_stats.h"

namespace allocbench {

class instrumented_resource : public std::pmr::memory_resource {
 public:
  instrumented_resource() = default;
  instrumented_resource(const instrumented_resource&) = delete;
  instrumented_resource& operator=(const instrumented_resource&) = delete;
  ~instrumented_resource() override = default;

  // A snapshot of the counters, summed over threads.
  virtual resource_stats stats() const = 0;

  // Gives all upstream memory back. Every block handed out becomes invalid; the caller must ensure no
  // other thread uses the resource meanwhile.
  virtual void release() = 0;

  // Checked mode (allocator/invalid_free.h): gives every block waiting in quarantine back to the
  // resource's own free memory now, checking each for writes after free. Unchecked: nothing.
  virtual void flush_quarantine() {}

  // What kind of resource this is: "fixed_slab", "segregated", "best_fit", "routing", "scalable".
  virtual std::string_view kind() const noexcept = 0;

 protected:
  // Every resource counts through these, so that stats and allocation scopes see the same calls.
  void note_allocate(std::size_t requested, std::size_t usable) noexcept {
    counters_.on_allocate(requested, usable);
    detail::scope_note_allocate(this, requested);
  }
  void note_deallocate(std::size_t requested, std::size_t usable) noexcept {
    counters_.on_deallocate(requested, usable);
    detail::scope_note_deallocate(this, requested);
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  detail::stats_counters counters_;
};

}  // namespace allocbench
