#include "pmr/scalable_resource.h"

#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "allocator/request.h"

namespace allocbench {
namespace {

std::pmr::memory_resource& non_null(std::pmr::memory_resource* upstream) {
  if (upstream == nullptr) throw std::invalid_argument("scalable_resource: upstream must not be null");
  return *upstream;
}

detail::scalable_heap_config heap_config_with_spans(const scalable_options& options,
                                                   std::pmr::memory_resource* spans) {
  detail::scalable_heap_config c = detail::heap_config_for(options);
  c.span_upstream = spans;
  // The same condition: a resource without a user's upstream keeps its large blocks on pages of its own.
  c.large_own_pages = spans != nullptr;
  return c;
}

}  // namespace

detail::scalable_heap_config detail::heap_config_for(const scalable_options& o) {
  detail::scalable_heap_config c;
  c.classes.classes = o.classes;
  c.classes.small_step = o.small_step;
  c.classes.small_step_limit = o.small_step_limit;
  c.classes.classes_per_doubling = o.classes_per_doubling;
  c.classes.max_small = o.max_small;
  c.span_bytes = o.span_bytes;
  c.batch_bytes = o.batch_bytes;
  c.max_batch = o.max_batch;
  c.class_cache_batches = o.class_cache_batches;
  c.thread_cache_bytes = o.thread_cache_bytes;
  c.thread_cache_budget = o.thread_cache_budget;
  c.central_shards = o.central_shards;
  // Checked mode must see every call, so it turns the unchecked fast path off; its own calls use the
  // same per-thread lists through try_allocate_checked.
  c.fast_path = !o.checked;
  c.guarded_sample_rate = o.guarded_sample_rate;
  return c;
}

scalable_resource::scalable_resource(const scalable_options& options)
    : scalable_resource(options, std::pmr::get_default_resource(), std::make_unique<detail::os_span_source>()) {}

scalable_resource::scalable_resource(const scalable_options& options, std::pmr::memory_resource* upstream)
    : scalable_resource(options, upstream, nullptr) {}

scalable_resource::scalable_resource(const scalable_options& options, std::pmr::memory_resource* upstream,
                                     std::unique_ptr<detail::os_span_source> spans)
    : checked_(options.checked),
      sampling_(options.guarded_sample_rate != 0),
      spans_(std::move(spans)),
      heap_(heap_config_with_spans(options, spans_.get()), non_null(upstream), counters_) {
  if (checked_) registry_ = std::make_unique<detail::checked_registry>(kind());
}

scalable_resource::~scalable_resource() = default;  // heap_ gives everything back

// The fast path lives in allocator/scalable_heap.h. An open allocation scope on this thread makes it
// refuse (its key, last_thread_cache::fast_id, matches no heap then), so the call goes to the slow
// path, which reports to the scope: the fast path makes no call of its own and needs no registers
// saved.
void* scalable_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  if (void* p = heap_.try_allocate(bytes, alignment)) [[likely]] return p;
  return allocate_slow(bytes, alignment);
}

void scalable_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (heap_.try_deallocate(p, bytes, alignment)) [[likely]] return;
  deallocate_slow(p, bytes, alignment);
}

void* scalable_resource::allocate_slow(std::size_t bytes, std::size_t alignment) {
  if (checked_) return allocate_checked(bytes, alignment);
  void* p = heap_.allocate(bytes, alignment);  // validates; throws with nothing changed
  detail::scope_note_allocate(this, bytes);
  return p;
}

void scalable_resource::deallocate_slow(void* p, std::size_t bytes, std::size_t alignment) {
  if (checked_) return deallocate_checked(p, bytes, alignment);
  detail::scope_note_deallocate(this, bytes);
  heap_.deallocate(p, bytes, alignment);
}

// What checked mode asks of the heap: at least 8-byte alignment, because the registry's index keeps
// one word per 8-byte granule (allocator/checked_block_map.h). Class blocks are 8-byte aligned
// anyway; what it changes is a guarded sample, which would otherwise end flush at its guard page at
// an odd address for an odd size (the canary still covers the bytes just past the request).
static std::size_t checked_heap_alignment(std::size_t alignment) noexcept { return alignment < 8 ? 8 : alignment; }

// Checked: the block comes from the class for bytes + the canary. The registry grows before the heap
// is asked (prepare), so that a bad_alloc from it leaves the statistics exactly as they were.
void* scalable_resource::allocate_checked(std::size_t bytes, std::size_t alignment) {
  detail::validate_alignment(alignment);
  if (bytes > std::numeric_limits<std::size_t>::max() - detail::kCanaryBytes) throw std::bad_alloc();
  registry_->prepare();
  const std::size_t need = bytes + detail::kCanaryBytes;
  const std::size_t heap_alignment = checked_heap_alignment(alignment);
  void* p = heap_.try_allocate_checked(need, heap_alignment);
  if (p == nullptr) p = heap_.allocate(need, heap_alignment);  // throws with nothing changed
  try {
    registry_->on_allocate(p, bytes, alignment, need);
  } catch (...) {
    // Only when several threads opened new 64 KiB windows of the registry's index at once and it
    // could not grow (the registry's header): this undo is counted as an allocation and a free.
    heap_.deallocate(p, need, heap_alignment);
    throw;
  }
  detail::scope_note_allocate(this, bytes);
  return p;
}

void scalable_resource::deallocate_checked(void* p, std::size_t bytes, std::size_t alignment) {
  detail::checked_registry::free_result r;
  registry_->on_deallocate(p, bytes, alignment, r);  // reports a bad free (the handler may throw)
  if (!r.accepted) return;                           // reported; ignored
  detail::scope_note_deallocate(this, bytes);
  registry_->finish(r, [this](const detail::checked_block& b) { give_to_heap(b); });
}

void scalable_resource::give_to_heap(const detail::checked_block& b) noexcept {
  const std::size_t need = b.bytes + detail::kCanaryBytes;
  const std::size_t heap_alignment = checked_heap_alignment(b.alignment);
  // A sampling heap must see every free first (a guarded block never enters a cache).
  if (sampling_ || !heap_.try_deallocate_checked(b.p, need, heap_alignment)) heap_.deallocate(b.p, need, heap_alignment);
}

void scalable_resource::flush_quarantine() {
  if (registry_) registry_->flush([this](const detail::checked_block& b) { give_to_heap(b); });
}

// The heap counted bytes + canary as requested, and counts quarantined blocks as live: the program
// asked for bytes, and has freed them.
// Clamped like every figure read while other threads run (stats_counters.h).
void scalable_resource::subtract_quarantine(resource_stats& s) const {
  const auto sub = [](std::uint64_t& v, std::uint64_t d) { v = detail::clamped_diff(v, d); };
  const std::uint64_t canaries = detail::kCanaryBytes;
  sub(s.total_requested_bytes, canaries * s.allocations);
  sub(s.live_requested_bytes, canaries * s.live_blocks);
  registry_->for_each_quarantined([&](const detail::checked_block& b) {
    const std::size_t need = b.bytes + detail::kCanaryBytes;
    const std::size_t c = heap_.class_for(need, b.alignment);
    const std::size_t usable = c == detail::size_class_map::npos ? need : heap_.classes().size(c);
    class_stats& cs = s.classes[c == detail::size_class_map::npos ? s.classes.size() - 1 : c];
    ++cs.deallocations;
    sub(cs.live_blocks, 1);
    ++s.deallocations;
    sub(s.live_blocks, 1);
    sub(s.live_requested_bytes, b.bytes);
    sub(s.live_usable_bytes, usable);
  });
  s.live_bytes = s.live_usable_bytes;
}

std::vector<std::size_t> scalable_resource::class_sizes() const {
  std::vector<std::size_t> sizes;
  for (std::size_t c = 0; c < heap_.classes().count(); ++c) sizes.push_back(heap_.classes().size(c));
  return sizes;
}

std::size_t scalable_resource::usable_size(std::size_t bytes, std::size_t alignment) const noexcept {
  if (checked_) {
    if (bytes > std::numeric_limits<std::size_t>::max() - detail::kCanaryBytes) return 0;
    bytes += detail::kCanaryBytes;  // the class that serves it has room for the canary
  }
  const std::size_t c = heap_.class_for(bytes, alignment);
  return c == detail::size_class_map::npos ? 0 : heap_.classes().size(c);
}

std::size_t scalable_resource::span_bytes_for(std::size_t bytes) const noexcept {
  const std::size_t c = heap_.class_for(bytes, 1);
  return c == detail::size_class_map::npos ? 0 : heap_.span_bytes(c);
}

std::size_t scalable_resource::local_cache_bound(std::size_t bytes) {
  const std::size_t c = heap_.class_for(bytes, 1);
  return c == detail::size_class_map::npos ? 0 : heap_.local_max_blocks(c);
}

std::size_t scalable_resource::release_unused() {
  flush_quarantine();  // quarantined blocks would keep their spans
  const std::size_t freed = heap_.release_unused();
  if (spans_) spans_->release_resident();  // the pages the span source kept for reuse go too
  return freed;
}

resource_stats scalable_resource::stats() const {
  resource_stats s;
  counters_.fill(s);  // upstream bytes held, their peak, contention
  heap_.fill_stats(s);
  if (registry_) subtract_quarantine(s);
  return s;
}

void scalable_resource::release() {
  heap_.release_all();
  if (spans_) spans_->release_resident();
  if (registry_) registry_->clear();
  counters_.forget_live();
}

}  // namespace allocbench
