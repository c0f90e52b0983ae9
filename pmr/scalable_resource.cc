#include "pmr/scalable_resource.h"

#include <algorithm>
#include <bit>
#include <atomic>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include <chrono>

#include "allocator/checked_header.h"
#include "allocator/request.h"
#include "allocator/span_arena.h"

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

std::size_t validated_fill_bytes(std::size_t n) {
  if (n > detail::kFillLimit) {
    throw std::invalid_argument("scalable_resource: checked_fill_bytes must be at most " +
                                std::to_string(detail::kFillLimit) + ", got " + std::to_string(n));
  }
  return n;
}

// A key for the header checksums: different for every resource and every release(), odd.
std::uint64_t fresh_secret(const void* self) noexcept {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t x = reinterpret_cast<std::uintptr_t>(self) ^
                    std::uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                    (counter.fetch_add(1, std::memory_order_relaxed) * 0x9e3779b97f4a7c15ull);
  x ^= x >> 30;  // splitmix64's finaliser
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x | 1;
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
  c.class_burst_batches = o.class_burst_batches;
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
      headers_(checked_ && !sampling_),
      fill_bytes_(validated_fill_bytes(options.checked_fill_bytes)),
      secret_(fresh_secret(this)),
      spans_(std::move(spans)),
      heap_(checked_heap_config(options, non_null(upstream)), non_null(upstream), counters_) {
  if (!checked_) return;
  registry_ = std::make_unique<detail::checked_registry>(kind(), fill_bytes_);
  if (!headers_) return;
  const detail::size_class_map& map = heap_.classes();
  const std::size_t table = std::min(map.max_small(), detail::fast_class_lookup::kDirectLimit);
  // A header block must come from a class (the span map knows only class spans): the largest request
  // with a header is the one the largest 16-aligned class within the table holds with its header and
  // canary, and every smaller one then finds a class too. With no such class (max_small 16, or
  // classes none of which is a multiple of 16) every request goes through the registry.
  std::size_t largest = 0;
  for (std::size_t c = 0; c < map.count(); ++c) {
    if (map.size(c) <= table && map.alignment(c) >= detail::kCheckedHeaderMaxAlignment) largest = std::max(largest, map.size(c));
  }
  if (largest < detail::kCheckedOverhead) {
    headers_ = false;
    return;
  }
  header_max_bytes_ = largest - detail::kCheckedOverhead;
  for (std::size_t c = 0; c < map.count(); ++c) {
    const std::uint64_t stride = map.size(c);
    const std::uint64_t first = detail::span_arena::first_block_offset(map.alignment(c));
    const std::uint64_t span = heap_.span_bytes(c);
    // The multiple test holds below 2^32: a span that large keeps its class off the header path.
    const std::uint64_t limit = span < (std::uint64_t(1) << 32) ? (span - first) / stride * stride : 0;
    geometry_[c] = {~std::uint64_t(0) / stride + 1, first, limit};
  }
  quarantines_.emplace(&scalable_resource::evict_at_exit, this);
}

// Checked with headers: every class's spans come through a recorder, so that a free can tell this
// resource's blocks by address (allocator/checked_span_map.h).
detail::scalable_heap_config scalable_resource::checked_heap_config(const scalable_options& options,
                                                                    std::pmr::memory_resource& upstream) {
  detail::scalable_heap_config c = heap_config_with_spans(options, spans_.get());
  if (!headers_) return c;
  c.colour_spans = false;  // header_block() finds block starts from each class's first-block offset
  std::pmr::memory_resource& span_source = spans_ ? *static_cast<std::pmr::memory_resource*>(spans_.get()) : upstream;
  span_map_ = std::make_unique<detail::checked_span_map>(*detail::checked_metadata_resource());
  recorders_ = std::make_unique<detail::checked_span_recorder[]>(detail::size_class_map::kMaxClasses);
  for (std::size_t i = 0; i < detail::size_class_map::kMaxClasses; ++i) {
    recorders_[i].attach(*span_map_, span_source, i + 1);  // tag: class + 1 (0 is no span)
    class_upstreams_[i] = &recorders_[i];
  }
  c.class_upstreams = class_upstreams_;
  return c;
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

// Checked, the header path (allocator/checked_header.h): inlined into allocate_slow, so that a
// checked allocation is one out-of-line call; only an empty list (heap_.allocate) adds one.
void* scalable_resource::allocate_checked(std::size_t bytes, std::size_t alignment) {
  // A power of two up to 16 (the header keeps p 16-byte aligned), and a size the header covers; the
  // rest (bad alignments included, which it validates) goes to the registry.
  const bool header_alignment = alignment - 1 < detail::kCheckedHeaderMaxAlignment && (alignment & (alignment - 1)) == 0;
  if (!headers_ || !header_alignment || bytes > header_max_bytes_) [[unlikely]] return allocate_registered(bytes, alignment);
  const std::size_t need = bytes + detail::kCheckedOverhead;
  void* block = heap_.try_allocate_checked(need, detail::kCheckedHeaderMaxAlignment);
  // The list is empty (or this thread's cache is not the last used): throws with nothing changed.
  if (block == nullptr) [[unlikely]] block = heap_.allocate(need, detail::kCheckedHeaderMaxAlignment);
  void* p = static_cast<char*>(block) + detail::kCheckedHeaderBytes;
  detail::write_canary(p, bytes, detail::kCanaryBytes);
  // Release: a free on another thread that reads the word sees the canary.
  detail::checked_header::at(p).store(
      detail::checked_header::word(secret_, p, bytes, alignment, detail::checked_header::kLive), std::memory_order_release);
  detail::scope_note_allocate(this, bytes);
  return p;
}

// The span map says whether p is a header block's pointer before anything of the block is read: a
// pointer outside this resource's spans, or not a block start plus 16 in one, goes to the registry
// (large blocks; the registry reports a foreign pointer for anything it does not know either).
bool scalable_resource::header_block(const void* p) const noexcept {
  constexpr std::uintptr_t kTagMask = detail::checked_span_map::kGranule - 1;
  const std::uintptr_t word = span_map_->find(p);
  if (word == 0) return false;
  const span_geometry& g = geometry_[(word & kTagMask) - 1];
  const std::uint64_t x = reinterpret_cast<std::uintptr_t>(p) - detail::kCheckedHeaderBytes - (word & ~kTagMask) - g.first;
  return x < g.limit && x * g.magic < g.magic;
}

void scalable_resource::deallocate_checked(void* p, std::size_t bytes, std::size_t alignment) {
  // The header's line is usually a cache miss (a random live block): fetch it while the span map is
  // asked. A prefetch never faults and reads nothing the program sees, so a wild pointer is safe.
  __builtin_prefetch(static_cast<char*>(p) - 8, 1);
  if (!headers_ || !header_block(p)) [[unlikely]] return deallocate_registered(p, bytes, alignment);
  using detail::checked_header;
  const std::atomic_ref<std::uint64_t> header = checked_header::at(p);
  // Under asan, a block the heap holds free is poisoned: no live block, and not to be read.
  if (!checked_header::readable(p)) [[unlikely]] return report_header_fault(p, bytes, alignment, 0);
  // A size beyond the header path's matches no header (its bits would spill into the checksum).
  if (bytes > header_max_bytes_) [[unlikely]] {
    return report_header_fault(p, bytes, alignment, header.load(std::memory_order_acquire));
  }
  // One compare-and-swap checks the checksum, the state (live), the size and the alignment, and
  // moves the word to quarantined: the free waits for the block's line once. Of two threads freeing
  // p at once, the second finds the word quarantined and reports a double free.
  const std::uint64_t live = checked_header::word(secret_, p, bytes, alignment, checked_header::kLive);
  const std::uint64_t freed = checked_header::flipped(live);
  for (bool overflow_reported = false;;) {
    std::uint64_t now = live;
    if (!header.compare_exchange_strong(now, freed, std::memory_order_acq_rel)) [[unlikely]] {
      return report_header_fault(p, bytes, alignment, now);  // nothing changed: the free is ignored
    }
    if (overflow_reported || detail::canary_intact(p, bytes, detail::kCanaryBytes)) [[likely]] break;
    // Live again before the report, so that a handler that throws leaves the block as it was.
    header.store(live, std::memory_order_release);
    report_overflow(p, bytes, alignment);
    overflow_reported = true;  // the handler returned: the block is the caller's, free it
  }
  detail::fill_freed(p, bytes, fill_bytes_);
  detail::scope_note_deallocate(this, bytes);
  if (detail::checked_quarantine_ring* ring = quarantines_->local()) [[likely]] {
    if (ring->push({p, bytes})) [[unlikely]] evict_oldest(*ring);
    return;
  }
  detail::quarantined_block batch[detail::checked_quarantine_ring::kEvictBatch];
  {
    std::lock_guard lock(quarantines_->shared_mutex());
    if (!quarantines_->shared().push({p, bytes})) return;
    quarantines_->shared().take_oldest(batch);
  }
  evict_batch(batch);  // outside the lock: it gives blocks to the heap and may report
}

// The ring's oldest half leaves: out of the ring first (so that statistics read meanwhile never see
// a block both quarantined and back in the heap), then every block back to the heap, then each
// overwritten fill reported, so a handler that throws leaves no block behind (only the later
// reports of this batch unsaid).
void scalable_resource::evict_oldest(detail::checked_quarantine_ring& ring) {
  detail::quarantined_block batch[detail::checked_quarantine_ring::kEvictBatch];
  ring.take_oldest(batch);
  evict_batch(batch);
}

void scalable_resource::evict_batch(const detail::quarantined_block (&batch)[detail::checked_quarantine_ring::kEvictBatch]) {
  std::uint32_t dirty = 0;  // bit i: batch[i]'s fill was overwritten
  std::size_t alignment[detail::checked_quarantine_ring::kEvictBatch];
  for (std::uint32_t i = 0; i < detail::checked_quarantine_ring::kEvictBatch; ++i) {
    if (leave_quarantine(batch[i], alignment[i])) [[unlikely]] dirty |= 1u << i;
  }
  if (dirty != 0) [[unlikely]] report_dirty(batch, alignment, dirty);
}

void scalable_resource::report_dirty(const detail::quarantined_block (&batch)[detail::checked_quarantine_ring::kEvictBatch],
                                     const std::size_t* alignment, std::uint32_t dirty) {
  for (; dirty != 0; dirty &= dirty - 1) {
    const int i = std::countr_zero(dirty);
    report_invalid_free({invalid_free_kind::write_after_free, batch[i].p, batch[i].bytes, alignment[i], kind()});
  }
}

bool scalable_resource::leave_quarantine(detail::quarantined_block b, std::size_t& alignment) noexcept {
  const bool dirty = !detail::fill_intact(b.p, b.bytes, fill_bytes_);
  const std::atomic_ref<std::uint64_t> header = detail::checked_header::at(b.p);
  if (dirty) [[unlikely]] alignment = detail::checked_header::alignment_of(header.load(std::memory_order_relaxed));
  // No block any more: a later free of p is foreign until the heap hands the block out again.
  header.store(0, std::memory_order_release);
  void* block = static_cast<char*>(b.p) - detail::kCheckedHeaderBytes;
  const std::size_t need = b.bytes + detail::kCheckedOverhead;
  constexpr std::size_t a = detail::kCheckedHeaderMaxAlignment;
  if (!heap_.try_deallocate_checked(block, need, a)) [[unlikely]] heap_.deallocate(block, need, a);
  return dirty;
}

void scalable_resource::evict(detail::quarantined_block b) {
  std::size_t alignment = 0;
  if (leave_quarantine(b, alignment)) [[unlikely]] {
    report_invalid_free({invalid_free_kind::write_after_free, b.p, b.bytes, alignment, kind()});
  }
}

void scalable_resource::evict_at_exit(void* self, detail::quarantined_block b) noexcept {
  try {
    static_cast<scalable_resource*>(self)->evict(b);
  } catch (...) {
    // Reported; a thread's exit cannot pass an exception on.
  }
}

void scalable_resource::report_header_fault(void* p, std::size_t bytes, std::size_t alignment, std::uint64_t word) {
  using detail::checked_header;
  invalid_free_kind fault = invalid_free_kind::foreign_pointer;  // no block: never handed out, or left quarantine
  if (word != 0 && checked_header::intact(secret_, p, word)) {
    if (checked_header::state_of(word) == checked_header::kQuarantined) {
      fault = invalid_free_kind::double_free;
    } else if (checked_header::state_of(word) == checked_header::kLive &&
               (checked_header::bytes_of(word) != bytes || checked_header::alignment_of(word) != alignment)) {
      fault = invalid_free_kind::size_mismatch;
    }
  }
  report_invalid_free({fault, p, bytes, alignment, kind()});  // nothing changed: the free is ignored
}

void scalable_resource::report_overflow(void* p, std::size_t bytes, std::size_t alignment) {
  report_invalid_free({invalid_free_kind::overflow, p, bytes, alignment, kind()});
}

// Checked through the registry: the block comes from the class for bytes + kCheckedOverhead (the
// canary right after bytes). The registry grows before the heap is asked (prepare), so that a
// bad_alloc from it leaves the statistics exactly as they were.
void* scalable_resource::allocate_registered(std::size_t bytes, std::size_t alignment) {
  detail::validate_alignment(alignment);
  if (bytes > std::numeric_limits<std::size_t>::max() - detail::kCheckedOverhead) throw std::bad_alloc();
  registry_->prepare();
  const std::size_t need = bytes + detail::kCheckedOverhead;
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

void scalable_resource::deallocate_registered(void* p, std::size_t bytes, std::size_t alignment) {
  detail::checked_registry::free_result r;
  registry_->on_deallocate(p, bytes, alignment, r);  // reports a bad free (the handler may throw)
  if (!r.accepted) return;                           // reported; ignored
  detail::scope_note_deallocate(this, bytes);
  registry_->finish(r, [this](const detail::checked_block& b) { give_to_heap(b); });
}

void scalable_resource::give_to_heap(const detail::checked_block& b) noexcept {
  const std::size_t need = b.bytes + detail::kCheckedOverhead;
  const std::size_t heap_alignment = checked_heap_alignment(b.alignment);
  // A sampling heap must see every free first (a guarded block never enters a cache).
  if (sampling_ || !heap_.try_deallocate_checked(b.p, need, heap_alignment)) heap_.deallocate(b.p, need, heap_alignment);
}

void scalable_resource::give_to_heap(void* block, std::size_t need) noexcept {
  const std::size_t a = detail::kCheckedHeaderMaxAlignment;
  if (!heap_.try_deallocate_checked(block, need, a)) [[unlikely]] heap_.deallocate(block, need, a);
}

// The registry's quarantine, then this thread's ring and the shared one: other threads' rings are
// theirs alone (no lock), and empty when their threads exit.
void scalable_resource::flush_quarantine() {
  if (!registry_) return;
  registry_->flush([this](const detail::checked_block& b) { give_to_heap(b); });
  if (!quarantines_) return;
  // Each block leaves before its report, so that a throwing handler leaves the rest to a next flush.
  const auto drain = [this](detail::checked_quarantine_ring& ring, bool shared) {
    for (;;) {
      detail::quarantined_block b;
      if (shared) {
        std::lock_guard lock(quarantines_->shared_mutex());
        b = ring.pop();
      } else {
        b = ring.pop();
      }
      if (b.p == nullptr) return;
      evict(b);
    }
  };
  if (detail::checked_quarantine_ring* ring = quarantines_->local()) drain(*ring, false);
  drain(quarantines_->shared(), true);
}

// The heap counted bytes + kCheckedOverhead as requested, and counts quarantined blocks as live: the
// program asked for bytes, and has freed them.
// Clamped like every figure read while other threads run (stats_counters.h).
void scalable_resource::subtract_quarantine(resource_stats& s) const {
  const auto sub = [](std::uint64_t& v, std::uint64_t d) { v = detail::clamped_diff(v, d); };
  const std::uint64_t overhead = detail::kCheckedOverhead;
  sub(s.total_requested_bytes, overhead * s.allocations);
  sub(s.live_requested_bytes, overhead * s.live_blocks);
  const auto freed = [&](std::size_t bytes, std::size_t alignment) {
    const std::size_t need = bytes + detail::kCheckedOverhead;
    const std::size_t c = heap_.class_for(need, alignment);
    const std::size_t usable = c == detail::size_class_map::npos ? need : heap_.classes().size(c);
    class_stats& cs = s.classes[c == detail::size_class_map::npos ? s.classes.size() - 1 : c];
    ++cs.deallocations;
    sub(cs.live_blocks, 1);
    ++s.deallocations;
    sub(s.live_blocks, 1);
    sub(s.live_requested_bytes, bytes);
    sub(s.live_usable_bytes, usable);
  };
  registry_->for_each_quarantined([&](const detail::checked_block& b) { freed(b.bytes, b.alignment); });
  if (quarantines_) {
    quarantines_->for_each_quarantined(
        [&](const detail::quarantined_block& b) { freed(b.bytes, detail::kCheckedHeaderMaxAlignment); });
  }
  s.live_bytes = s.live_usable_bytes;
}

std::vector<std::size_t> scalable_resource::class_sizes() const {
  std::vector<std::size_t> sizes;
  for (std::size_t c = 0; c < heap_.classes().count(); ++c) sizes.push_back(heap_.classes().size(c));
  return sizes;
}

std::size_t scalable_resource::usable_size(std::size_t bytes, std::size_t alignment) const noexcept {
  if (checked_) {
    if (bytes > std::numeric_limits<std::size_t>::max() - detail::kCheckedOverhead) return 0;
    // The class that serves it has room for the header and canary; header blocks are 16-aligned.
    if (headers_ && bytes <= header_max_bytes_ && alignment <= detail::kCheckedHeaderMaxAlignment) {
      alignment = detail::kCheckedHeaderMaxAlignment;
    }
    bytes += detail::kCheckedOverhead;
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
  if (quarantines_) quarantines_->clear();
  // Headers left in the spans given back must never pass for live blocks again.
  secret_ = fresh_secret(this);
  counters_.forget_live();
}

}  // namespace allocbench
