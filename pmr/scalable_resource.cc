#include "pmr/scalable_resource.h"

#include <stdexcept>

namespace allocbench {
namespace {

std::pmr::memory_resource& non_null(std::pmr::memory_resource* upstream) {
  if (upstream == nullptr) throw std::invalid_argument("scalable_resource: upstream must not be null");
  return *upstream;
}

detail::scalable_heap_config heap_config(const scalable_options& o) {
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
  c.central_shards = o.central_shards;
  // Checked mode must see every call, so it turns the fast path off.
  c.fast_path = !o.checked;
  c.guarded_sample_rate = o.guarded_sample_rate;
  return c;
}

}  // namespace

scalable_resource::scalable_resource(const scalable_options& options, std::pmr::memory_resource* upstream)
    : checked_(options.checked), sampling_(options.guarded_sample_rate != 0), heap_(heap_config(options), non_null(upstream), counters_) {
  if (checked_) registry_ = std::make_unique<detail::live_block_registry>(kind());
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
  void* p = heap_.allocate(bytes, alignment);  // validates; throws with nothing changed
  if (checked_) {
    try {
      registry_->on_allocate(p, bytes, alignment);
    } catch (...) {
      heap_.deallocate(p, bytes, alignment);  // the registry could not record it (out of memory)
      throw;
    }
  }
  detail::scope_note_allocate(this, bytes);
  return p;
}

void scalable_resource::deallocate_slow(void* p, std::size_t bytes, std::size_t alignment) {
  // Sampling closes the free fast path (scalable_heap::try_deallocate_sampled says why): this is it.
  if (sampling_ && heap_.try_deallocate_sampled(p, bytes, alignment)) [[likely]] return;
  if (checked_ && !registry_->on_deallocate(p, bytes, alignment)) return;  // reported; ignored
  detail::scope_note_deallocate(this, bytes);
  heap_.deallocate(p, bytes, alignment);
}

std::vector<std::size_t> scalable_resource::class_sizes() const {
  std::vector<std::size_t> sizes;
  for (std::size_t c = 0; c < heap_.classes().count(); ++c) sizes.push_back(heap_.classes().size(c));
  return sizes;
}

std::size_t scalable_resource::usable_size(std::size_t bytes, std::size_t alignment) const noexcept {
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

std::size_t scalable_resource::release_unused() { return heap_.release_unused(); }

resource_stats scalable_resource::stats() const {
  resource_stats s;
  counters_.fill(s);  // upstream bytes held, their peak, contention
  heap_.fill_stats(s);
  return s;
}

void scalable_resource::release() {
  heap_.release_all();
  if (registry_) registry_->clear();
  counters_.forget_live();
}

}  // namespace allocbench
