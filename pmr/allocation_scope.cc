#include "pmr/allocation_scope.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace allocbench {
namespace {

// A scope closed out of order (or on another thread) would leave a frame that no longer exists on the
// thread's stack; every later allocation would walk into it. There is no safe way to continue.
[[noreturn]] void scope_closed_out_of_order() noexcept {
  std::fprintf(stderr,
               "allocbench::allocation_scope: closed while not the innermost open scope of this thread "
               "(scopes must close in reverse order of opening, on the thread that opened them)\n");
  std::abort();
}

}  // namespace

allocation_scope::allocation_scope(std::pmr::memory_resource& watched) noexcept : watched_(&watched) {
  open();
}

allocation_scope::allocation_scope(std::pmr::memory_resource& watched, scratch_arena_t,
                                   std::size_t initial_bytes)
    : watched_(&watched) {
  if (initial_bytes == 0) {
    scratch_.emplace(&watched);
  } else {
    scratch_.emplace(initial_bytes, &watched);
  }
  open();  // last: nothing after it throws, so a frame is never left behind by a failed constructor
}

void allocation_scope::open() noexcept {
  target = watched_;
  parent = detail::tls_scope_top;
  detail::set_scope_top(this);
}

allocation_scope::~allocation_scope() {
  if (detail::tls_scope_top != this) [[unlikely]] scope_closed_out_of_order();
  if (scratch_) scratch_->release();  // while still open: the scope sees its chunks go back
  detail::set_scope_top(parent);
  if (final_report_ != nullptr) *final_report_ = report();
}

std::pmr::memory_resource& allocation_scope::scratch() {
  if (!scratch_) [[unlikely]] {
    throw std::logic_error("allocbench::allocation_scope::scratch: the scope has no scratch arena "
                           "(open it with allocbench::scratch_arena)");
  }
  return *scratch_;
}

scope_report allocation_scope::report() const noexcept {
  scope_report r;
  r.allocations = allocations_.load(std::memory_order_relaxed);
  r.deallocations = deallocations_.load(std::memory_order_relaxed);
  r.bytes_allocated = bytes_allocated_.load(std::memory_order_relaxed);
  r.bytes_freed = bytes_freed_.load(std::memory_order_relaxed);
  r.peak_bytes = peak_bytes_.load(std::memory_order_relaxed);
  r.live_bytes = std::int64_t(r.bytes_allocated - r.bytes_freed);
  r.live_blocks = std::int64_t(r.allocations - r.deallocations);
  return r;
}

// Only this scope's thread writes the counters, so a load and a store (no read-modify-write) suffice.
void allocation_scope::on_allocate(std::size_t bytes) noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  allocations_.store(allocations_.load(relaxed) + 1, relaxed);
  const std::uint64_t in = bytes_allocated_.load(relaxed) + bytes;
  bytes_allocated_.store(in, relaxed);
  const std::int64_t live = std::int64_t(in - bytes_freed_.load(relaxed));
  if (live > 0 && std::uint64_t(live) > peak_bytes_.load(relaxed)) peak_bytes_.store(std::uint64_t(live), relaxed);
}

void allocation_scope::on_deallocate(std::size_t bytes) noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  deallocations_.store(deallocations_.load(relaxed) + 1, relaxed);
  bytes_freed_.store(bytes_freed_.load(relaxed) + bytes, relaxed);
}

}  // namespace allocbench
