// allocbench::allocation_scope: per-step or per-request accounting of what is allocated from a resource
// while the scope is open, on the scope's own thread.
//
//   allocbench::scope_report step;
//   {
//     allocbench::allocation_scope scope(pool);             // pool: one of our resources
//     scope.report_on_close(step);                          // final figures land here at close
//     run_step();                                           // allocations from `pool` on this thread
//     auto so_far = scope.report();                         // figures at any moment
//   }
//   log(step.allocations, step.peak_bytes, step.live_bytes);
//
//   {  // per-step scratch memory: a monotonic arena over `pool`, released when the scope closes
//     allocbench::allocation_scope scope(pool, allocbench::scratch_arena, 1 << 20);
//     std::pmr::vector<float> tmp(4096, &scope.scratch());
//   }
//
// How it sees allocations: every resource of ours (allocbench::instrumented_resource) reports each
// allocate and deallocate to the calling thread's stack of open scopes (allocator/scope_hooks.h); a
// scope counts the calls made to the resource it watches. Hence:
// - thread-aware: a scope counts only its own thread's calls; other threads allocating from the same
//   resource at the same time are not seen (open a scope on each thread to account for each);
// - nesting: scopes form a per-thread stack; every open scope watching the resource counts the call,
//   so an outer request scope includes the steps scoped inside it. Scopes on different resources nest
//   freely. Scopes must close in reverse order of opening, on the thread that opened them; anything
//   else aborts with a message (checked in every build: a frame left dangling would corrupt the stack);
// - figures are in requested bytes, as given to allocate/deallocate, not the resource's rounded sizes;
// - resources that are not ours (std::pmr::new_delete_resource(), std pools, a peer allocator) make no
//   hook calls, so a scope over them sees nothing. Wrap such a resource in allocbench::
//   observable_resource (below) and allocate through the wrapper to make it visible;
// - the hook passes bytes, not pointers, so "live" is net: bytes allocated minus bytes freed within
//   the scope. A scope that frees blocks allocated before it opened reports negative live figures;
// - the watched resource must outlive the scope.
//
// Scratch arena: the scratch_arena constructor also makes a std::pmr::monotonic_buffer_resource over
// the watched resource (scratch()), whose chunks are allocated from the watched resource and so are
// counted by the scope, and are released when the scope closes, before the final report is taken (so
// a scope used only for scratch closes with live_bytes == 0). The arena is not thread-safe: use it on
// the scope's thread.
//
// Cost: with no scope open on a thread its resources pay one thread-local load and a not-taken branch
// per call; with scopes open, a walk of the stack and a few relaxed stores per call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>

#include "allocator/request.h"
#include "allocator/scope_hooks.h"

namespace allocbench {

// What one scope saw. Counts are of calls on the scope's thread to the watched resource.
struct scope_report {
  std::uint64_t allocations = 0;      // allocate calls
  std::uint64_t deallocations = 0;    // deallocate calls
  std::uint64_t bytes_allocated = 0;  // sum of requested sizes allocated
  std::uint64_t bytes_freed = 0;      // sum of sizes deallocated
  std::uint64_t peak_bytes = 0;       // high-water mark of live_bytes while open (0 if never positive)
  std::int64_t live_bytes = 0;        // bytes_allocated - bytes_freed
  std::int64_t live_blocks = 0;       // allocations - deallocations
};

struct scratch_arena_t {
  explicit scratch_arena_t() = default;
};
inline constexpr scratch_arena_t scratch_arena{};

class allocation_scope final : private detail::scope_frame {
 public:
  // Opens a scope on this thread watching `watched`.
  explicit allocation_scope(std::pmr::memory_resource& watched) noexcept;

  // Also owns a monotonic arena over `watched`, released at close. `initial_bytes` sizes its first
  // chunk (0: the standard library's default).
  allocation_scope(std::pmr::memory_resource& watched, scratch_arena_t, std::size_t initial_bytes = 0);

  // Releases the scratch arena, closes the scope and writes the final report where report_on_close
  // asked. Aborts when this is not the innermost open scope of the calling thread.
  ~allocation_scope();

  // A stack frame: neither copied nor moved.
  allocation_scope(const allocation_scope&) = delete;
  allocation_scope& operator=(const allocation_scope&) = delete;

  // The figures so far. Exact on the scope's thread; read from another thread, each figure is current
  // but they need not come from the same moment.
  scope_report report() const noexcept;

  // At close, after the scratch arena is released, *out receives the final report. `out` must outlive
  // the scope.
  void report_on_close(scope_report& out) noexcept { final_report_ = &out; }

  std::pmr::memory_resource& watched() const noexcept { return *watched_; }

  bool has_scratch() const noexcept { return scratch_.has_value(); }

  // The scratch arena; std::logic_error when the scope was opened without one.
  std::pmr::memory_resource& scratch();

 private:
  void on_allocate(std::size_t bytes) noexcept override;
  void on_deallocate(std::size_t bytes) noexcept override;
  void open() noexcept;

  // Written only by the scope's thread (plain load + store); atomic so that report() may be called
  // from any thread without a data race.
  std::atomic<std::uint64_t> allocations_{0};
  std::atomic<std::uint64_t> deallocations_{0};
  std::atomic<std::uint64_t> bytes_allocated_{0};
  std::atomic<std::uint64_t> bytes_freed_{0};
  std::atomic<std::uint64_t> peak_bytes_{0};

  std::pmr::memory_resource* watched_;
  std::optional<std::pmr::monotonic_buffer_resource> scratch_;
  scope_report* final_report_ = nullptr;
};

// Forwards every call to an upstream resource and reports it to the calling thread's allocation
// scopes: makes a resource that is not ours visible to allocation_scope. Watch the wrapper, and
// allocate through it. Thread-safe when the upstream is; compares equal only to itself.
class observable_resource final : public std::pmr::memory_resource {
 public:
  explicit observable_resource(std::pmr::memory_resource* upstream = std::pmr::get_default_resource()) noexcept
      : upstream_(upstream) {}
  observable_resource(const observable_resource&) = delete;
  observable_resource& operator=(const observable_resource&) = delete;

  std::pmr::memory_resource* upstream() const noexcept { return upstream_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    detail::check_upstream_request(bytes, alignment);  // an upstream may not check for itself
    void* p = upstream_->allocate(bytes, alignment);
    detail::scope_note_allocate(this, bytes);
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    detail::scope_note_deallocate(this, bytes);
    upstream_->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::pmr::memory_resource* upstream_;
};

}  // namespace allocbench
