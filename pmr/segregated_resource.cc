#include "pmr/segregated_resource.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "allocator/asan_poison.h"
#include "allocator/block_pool.h"
#include "allocator/request.h"
#include "allocator/stats_counters.h"

namespace allocbench {

std::string_view to_string(lock_mode mode) noexcept {
  switch (mode) {
    case lock_mode::global: return "global";
    case lock_mode::per_class: return "per_class";
    case lock_mode::per_class_arena: return "per_class_arena";
  }
  return "";
}

std::optional<lock_mode> parse_lock_mode(std::string_view name) noexcept {
  for (lock_mode m : {lock_mode::global, lock_mode::per_class, lock_mode::per_class_arena}) {
    if (name == to_string(m)) return m;
  }
  return std::nullopt;
}

// One class: its pool, the lock that guards the pool in per_class and per_class_arena modes, and its
// counts. On its own cache line, so that threads working on different classes share nothing.
struct alignas(detail::kCacheLine) segregated_resource::size_class {
  size_class(std::size_t class_size, std::size_t chunk_bytes, std::pmr::memory_resource& upstream,
             detail::stats_counters& counters)
      : size(class_size), pool(detail::geometry_for(class_size), chunk_bytes, upstream, counters) {}

  const std::size_t size;
  detail::counted_mutex mutex;
  detail::block_pool pool;  // guarded by the list lock (and the refill lock in per_class mode)
  // Written only under the list lock; atomic so that stats() can read them without it.
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> deallocations{0};
};

namespace {

[[noreturn]] void bad_option(const std::string& what) {
  throw std::invalid_argument("segregated_resource: " + what);
}

void validate(const segregated_options& o, std::pmr::memory_resource* upstream) {
  if (upstream == nullptr) bad_option("upstream must not be null");
  if (o.classes.empty()) bad_option("classes must not be empty");
  if (o.classes.front() == 0) bad_option("classes must be at least 1, got 0");
  for (std::size_t i = 1; i < o.classes.size(); ++i) {
    if (o.classes[i] <= o.classes[i - 1]) {
      bad_option("classes must be strictly ascending, got " + std::to_string(o.classes[i]) + " after " +
                 std::to_string(o.classes[i - 1]));
    }
  }
  if (o.classes.back() > detail::kMaxChunkBytes) {
    bad_option("classes must be at most " + std::to_string(detail::kMaxChunkBytes) + ", got " +
               std::to_string(o.classes.back()));
  }
  if (to_string(o.mode).empty()) {
    bad_option("mode must be global, per_class or per_class_arena, got " +
               std::to_string(static_cast<int>(o.mode)));
  }
  const std::size_t largest_stride = detail::geometry_for(o.classes.back()).stride;
  if (o.chunk_bytes < largest_stride || o.chunk_bytes > detail::kMaxChunkBytes) {
    bad_option("chunk_bytes must be between the largest class stride (" + std::to_string(largest_stride) +
               ") and " + std::to_string(detail::kMaxChunkBytes) + ", got " + std::to_string(o.chunk_bytes));
  }
}

// The single writer holds the list lock: a plain load and store, no read-modify-write needed.
void bump(std::atomic<std::uint64_t>& count) noexcept {
  count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace

segregated_resource::segregated_resource(segregated_options options, std::pmr::memory_resource* upstream)
    : mode_(options.mode), checked_(options.checked) {
  validate(options, upstream);
  sizes_ = std::move(options.classes);
  for (std::size_t size : sizes_) {
    alignments_.push_back(detail::geometry_for(size).alignment);
    classes_.push_back(std::make_unique<size_class>(size, options.chunk_bytes, *upstream, counters_));
  }
  if (checked_) registry_ = std::make_unique<detail::checked_registry>(kind());
}

segregated_resource::~segregated_resource() { release(); }

std::size_t segregated_resource::class_index(std::size_t bytes, std::size_t alignment) const noexcept {
  // Classes are few (tens at most): a binary search for the size, then a short walk for alignment
  // (only an over-aligned request walks past its size's class).
  const auto first = std::lower_bound(sizes_.begin(), sizes_.end(), bytes);
  for (auto i = std::size_t(first - sizes_.begin()); i < sizes_.size(); ++i) {
    if (alignments_[i] >= alignment) return i;
  }
  return npos;
}

detail::counted_mutex& segregated_resource::list_mutex(size_class& c) noexcept {
  // The mode never changes, so this branch is predicted perfectly.
  return mode_ == lock_mode::global ? global_mutex_ : c.mutex;
}

// Fast path: validate, find the class, pop under its list lock, count. Refills and checked mode are
// out of line.
void* segregated_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  detail::validate_alignment(alignment);
  const std::size_t index = class_index(bytes, alignment);
  // Too large (sizes near SIZE_MAX included) or over-aligned: nothing has changed yet.
  if (index == npos) [[unlikely]] throw std::bad_alloc();
  size_class& c = *classes_[index];
  if (checked_) [[unlikely]] return allocate_checked(c, bytes, alignment);
  void* p;
  {
    detail::counted_lock lock(list_mutex(c), counters_);
    p = c.pool.pop();
    if (p == nullptr) [[unlikely]] p = refill_and_pop(c);
    bump(c.allocations);
  }
  detail::unpoison_block(p, c.size);  // asan builds: free blocks are poisoned (asan_poison.h)
  note_allocate(bytes, c.size);
  return p;
}

void segregated_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (checked_) [[unlikely]] return deallocate_checked(p, bytes, alignment);
  const std::size_t index = class_index(bytes, alignment);
  // Nothing of that size and alignment was ever handed out here (checked mode has already caught it):
  // reported even when unchecked, since there is no list to put the block on.
  if (index == npos) [[unlikely]] return reject_unfit_free(p, bytes, alignment);
  size_class& c = *classes_[index];
  note_deallocate(bytes, c.size);
  detail::poison_free_block(p, c.size);
  detail::counted_lock lock(list_mutex(c), counters_);
  c.pool.push(p);
  bump(c.deallocations);
}

// Called with the list lock held; an upstream throw leaves the pool unchanged and unwinds the lock.
void* segregated_resource::refill_and_pop(size_class& c) {
  if (mode_ == lock_mode::per_class) {
    // The report's sharded design: every class refills under one lock. Order: list lock, then this.
    detail::counted_lock refill(refill_mutex_, counters_);
    c.pool.refill();
  } else {
    c.pool.refill();
  }
  return c.pool.pop();
}

// The registry grows before a block is taken, and the block is counted only once recorded: a
// bad_alloc changes nothing.
void* segregated_resource::allocate_checked(size_class& c, std::size_t bytes, std::size_t alignment) {
  registry_->prepare();
  void* p;
  {
    detail::counted_lock lock(list_mutex(c), counters_);
    p = c.pool.pop();
    if (p == nullptr) p = refill_and_pop(c);
  }
  detail::unpoison_block(p, c.size);  // asan builds: free blocks are poisoned (asan_poison.h)
  try {
    registry_->on_allocate(p, bytes, alignment, c.size);
  } catch (...) {
    detail::poison_free_block(p, c.size);
    detail::counted_lock lock(list_mutex(c), counters_);
    c.pool.push(p);
    throw;
  }
  {
    detail::counted_lock lock(list_mutex(c), counters_);
    bump(c.allocations);
  }
  note_allocate(bytes, c.size);
  return p;
}

// A free is counted when accepted (the program is done with the block); the block reaches its list
// when it leaves quarantine.
void segregated_resource::deallocate_checked(void* p, std::size_t bytes, std::size_t alignment) {
  detail::checked_registry::free_result r;
  registry_->on_deallocate(p, bytes, alignment, r);
  if (!r.accepted) return;  // reported; the free is ignored
  size_class& c = *classes_[class_index(bytes, alignment)];  // recorded with this size: a class fits
  note_deallocate(bytes, c.size);
  {
    detail::counted_lock lock(list_mutex(c), counters_);
    bump(c.deallocations);
  }
  registry_->finish(r, [this](const detail::checked_block& b) { give_back_quarantined(b); });
}

void segregated_resource::give_back_quarantined(const detail::checked_block& b) noexcept {
  size_class& c = *classes_[class_index(b.bytes, b.alignment)];
  detail::poison_free_block(b.p, c.size);
  detail::counted_lock lock(list_mutex(c), counters_);
  c.pool.push(b.p);
}

void segregated_resource::flush_quarantine() {
  if (registry_) registry_->flush([this](const detail::checked_block& b) { give_back_quarantined(b); });
}

void segregated_resource::reject_unfit_free(void* p, std::size_t bytes, std::size_t alignment) {
  report_invalid_free({invalid_free_kind::size_mismatch, p, bytes, alignment, kind()});
}

resource_stats segregated_resource::stats() const {
  resource_stats s;
  counters_.fill(s);
  s.classes.reserve(classes_.size());
  for (const auto& c : classes_) {
    class_stats cs;
    cs.name = std::to_string(c->size);
    cs.block_size = c->size;
    cs.allocations = c->allocations.load(std::memory_order_relaxed);
    cs.deallocations = c->deallocations.load(std::memory_order_relaxed);
    cs.live_blocks = detail::clamped_diff(cs.allocations, cs.deallocations);
    cs.bytes_held = c->pool.bytes_held();
    s.classes.push_back(std::move(cs));
  }
  return s;
}

void segregated_resource::release() {
  for (auto& c : classes_) {
    // The same locks as a refill, so that upstream calls stay serialised as the mode promises.
    detail::counted_lock lock(list_mutex(*c), counters_);
    if (mode_ == lock_mode::per_class) {
      detail::counted_lock refill(refill_mutex_, counters_);
      c->pool.release();
    } else {
      c->pool.release();
    }
    // Every block handed out is gone: it counts as freed, as in counters_.forget_live().
    c->deallocations.store(c->allocations.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  if (registry_) registry_->clear();
  counters_.forget_live();
}

}  // namespace allocbench
