#include "pmr/routing_resource.h"

#include <stdexcept>

#include "allocator/request.h"
#include "allocator/scope_hooks.h"

namespace allocbench {

routing_resource::routing_resource(std::vector<route> routes,
                                   std::unique_ptr<instrumented_resource> fallback,
                                   std::pmr::memory_resource* upstream, bool checked,
                                   bool debug_pointer_guard)
    : routes_(std::move(routes)), fallback_(std::move(fallback)), upstream_(upstream) {
  if (upstream_ == nullptr) throw std::invalid_argument("routing_resource: upstream is null");
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    route& r = routes_[i];
    const std::string which = "routing_resource: route " + std::to_string(i);
    if (r.resource == nullptr) throw std::invalid_argument(which + " has no resource");
    if (!detail::is_power_of_two(r.max_alignment)) {
      throw std::invalid_argument(which + ": max_alignment " + std::to_string(r.max_alignment) +
                                  " is not a power of two");
    }
    if (i > 0 && r.max_size < routes_[i - 1].max_size) {
      throw std::invalid_argument(which + ": routes must be sorted by max_size ascending, but " +
                                  std::to_string(r.max_size) + " follows " +
                                  std::to_string(routes_[i - 1].max_size));
    }
    if (r.label.empty()) r.label = std::string(r.resource->kind());
    table_.push_back({r.max_size, r.max_alignment, r.resource.get()});
  }
  if (checked) registry_.emplace(kind());
  if (debug_pointer_guard) guard_ = std::make_unique<detail::debug_pointer_guard>();
}

routing_resource::~routing_resource() { release_direct(); }

void* routing_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  // Checked here so that a bad alignment fails the same way whichever child it would reach.
  detail::validate_alignment(alignment);
  instrumented_resource* child = target(bytes, alignment);
  if (guard_) [[unlikely]] return allocate_guarded(child, bytes, alignment);
  if (child == nullptr) [[unlikely]] return allocate_direct(bytes, alignment);
  void* p = child->allocate(bytes, alignment);
  // The child counted the call in its own stats and for scopes watching it; scopes watching the
  // router are told here, once.
  detail::scope_note_allocate(this, bytes);
  return p;
}

void routing_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (guard_ && !guard_->on_deallocate(p)) [[unlikely]] {
    report_invalid_free({invalid_free_kind::foreign_pointer, p, bytes, alignment, kind()});
    return;  // the guard never handed it out (or it was freed already): ignored
  }
  instrumented_resource* child = target(bytes, alignment);
  if (child == nullptr) [[unlikely]] return deallocate_direct(p, bytes, alignment);
  detail::scope_note_deallocate(this, bytes);
  child->deallocate(p, bytes, alignment);
}

void* routing_resource::allocate_guarded(instrumented_resource* child, std::size_t bytes,
                                         std::size_t alignment) {
  void* p = child != nullptr ? child->allocate(bytes, alignment) : allocate_direct(bytes, alignment);
  try {
    guard_->on_allocate(p);
  } catch (...) {
    // Undone through the normal path, so that no statistic or scope keeps the block.
    if (child != nullptr) child->deallocate(p, bytes, alignment);
    else deallocate_direct(p, bytes, alignment);
    throw;
  }
  if (child != nullptr) detail::scope_note_allocate(this, bytes);
  return p;
}

void* routing_resource::allocate_direct(std::size_t bytes, std::size_t alignment) {
  // Checked mode asks for room for the canary: a direct block has no slack of its own. Its registry
  // grows first, so that its bad_alloc changes nothing.
  const std::size_t room = registry_ ? detail::add_or_throw(bytes, detail::kCanaryBytes) : bytes;
  const std::size_t held = detail::direct_blocks::upstream_bytes(room, alignment);
  if (registry_) registry_->prepare();
  void* p = detail::direct_blocks::acquire(upstream_, room, alignment);
  if (registry_) {
    try {
      registry_->on_allocate(p, bytes, alignment, room);
    } catch (...) {
      detail::direct_blocks::give_back(upstream_, p);
      throw;
    }
  }
  {
    std::lock_guard guard(direct_mu_);
    direct_.link(p);
  }
  counters_.on_upstream_acquire(held);
  note_allocate(bytes, bytes);
  return p;
}

void routing_resource::deallocate_direct(void* p, std::size_t bytes, std::size_t alignment) {
  if (!registry_) {
    note_deallocate(bytes, bytes);
    give_back_direct(p);
    return;
  }
  detail::checked_registry::free_result r;
  registry_->on_deallocate(p, bytes, alignment, r);
  if (!r.accepted) return;  // reported; the free is ignored
  note_deallocate(bytes, bytes);  // counted now; the block goes back when it leaves quarantine
  registry_->finish(r, [this](const detail::checked_block& b) { give_back_direct(b.p); });
}

void routing_resource::give_back_direct(void* p) noexcept {
  {
    std::lock_guard guard(direct_mu_);
    direct_.unlink(p);
  }
  counters_.on_upstream_release(detail::direct_blocks::held_bytes(p));
  detail::direct_blocks::give_back(upstream_, p);
}

void routing_resource::flush_quarantine() {
  for (route& r : routes_) r.resource->flush_quarantine();
  if (fallback_) fallback_->flush_quarantine();
  if (registry_) registry_->flush([this](const detail::checked_block& b) { give_back_direct(b.p); });
}

void routing_resource::release_direct() noexcept {
  std::lock_guard guard(direct_mu_);
  counters_.on_upstream_release(direct_.release_all(upstream_));
}

void routing_resource::release() {
  for (route& r : routes_) r.resource->release();
  if (fallback_) fallback_->release();
  release_direct();
  if (registry_) registry_->clear();
  if (guard_) guard_->clear();
  counters_.forget_live();
}

namespace {

void add_figures(resource_stats& sum, const resource_stats& s) {
  sum.allocations += s.allocations;
  sum.deallocations += s.deallocations;
  sum.live_blocks += s.live_blocks;
  sum.live_requested_bytes += s.live_requested_bytes;
  sum.live_usable_bytes += s.live_usable_bytes;
  sum.live_bytes += s.live_bytes;
  sum.peak_live_bytes += s.peak_live_bytes;
  sum.total_requested_bytes += s.total_requested_bytes;
  sum.total_usable_bytes += s.total_usable_bytes;
  sum.bytes_held += s.bytes_held;
  sum.peak_bytes_held += s.peak_bytes_held;
  sum.contention_events += s.contention_events;
}

class_stats child_entry(std::string name, const resource_stats& s, std::size_t block_size) {
  return {std::move(name), block_size, s.allocations, s.deallocations, s.live_blocks, s.bytes_held};
}

// A child whose blocks all have one usable size (a slab) reports it; others report 0 ("varies").
std::size_t uniform_block_size(const resource_stats& s) {
  if (s.classes.size() == 1) return s.classes.front().block_size;
  return 0;
}

}  // namespace

resource_stats routing_resource::stats() const {
  resource_stats direct;
  counters_.fill(direct);
  resource_stats sum = direct;
  for (const route& r : routes_) {
    const resource_stats s = r.resource->stats();
    add_figures(sum, s);
    sum.classes.push_back(child_entry(r.label, s, uniform_block_size(s)));
  }
  if (fallback_) {
    const resource_stats s = fallback_->stats();
    add_figures(sum, s);
    sum.classes.push_back(child_entry("fallback", s, uniform_block_size(s)));
  } else {
    sum.classes.push_back(child_entry("upstream", direct, 0));
  }
  return sum;
}

}  // namespace allocbench
