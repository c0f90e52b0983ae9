#include "pmr/fixed_slab_resource.h"

#include <new>
#include <stdexcept>
#include <string>

#include "allocator/request.h"

namespace allocbench {
namespace {

[[noreturn]] void bad_option(const char* name, const std::string& rule, std::size_t value) {
  throw std::invalid_argument("fixed_slab_resource: " + std::string(name) + " must be " + rule +
                              ", got " + std::to_string(value));
}

// Checks the options before any member is built from them; returns the block geometry.
detail::block_geometry validated_geometry(const fixed_slab_options& o,
                                          std::pmr::memory_resource* upstream) {
  if (upstream == nullptr) throw std::invalid_argument("fixed_slab_resource: upstream must not be null");
  if (o.block_size == 0 || o.block_size > detail::kMaxChunkBytes) {
    bad_option("block_size", "between 1 and " + std::to_string(detail::kMaxChunkBytes), o.block_size);
  }
  const detail::block_geometry g = detail::geometry_for(o.block_size);
  if (o.chunk_bytes < g.stride || o.chunk_bytes > detail::kMaxChunkBytes) {
    bad_option("chunk_bytes",
               "between the block stride (" + std::to_string(g.stride) + ") and " +
                   std::to_string(detail::kMaxChunkBytes),
               o.chunk_bytes);
  }
  if (o.thread_cache_entries > fixed_slab_resource::kMaxThreadCacheEntries) {
    bad_option("thread_cache_entries",
               "at most " + std::to_string(fixed_slab_resource::kMaxThreadCacheEntries),
               o.thread_cache_entries);
  }
  return g;
}

}  // namespace

fixed_slab_resource::fixed_slab_resource(const fixed_slab_options& options,
                                         std::pmr::memory_resource* upstream)
    : block_size_(options.block_size),
      block_alignment_(validated_geometry(options, upstream).alignment),
      checked_(options.checked),
      central_(detail::geometry_for(options.block_size), options.chunk_bytes, *upstream, counters_) {
  if (options.thread_cache_entries > 0) {
    caches_ = std::make_unique<detail::block_thread_caches>(central_, options.thread_cache_entries);
  }
  if (checked_) registry_ = std::make_unique<detail::checked_registry>(kind());
}

fixed_slab_resource::~fixed_slab_resource() {
  // Caches first: their blocks go back to the central list while it still exists, and no exiting
  // thread can reach this instance afterwards.
  caches_.reset();
  central_.release();
  counters_.forget_live();
}

// Fast path: validate, take a block (thread cache, else central list), count it. Refills and checked
// mode are out of line.
void* fixed_slab_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  detail::validate_alignment(alignment);
  // Sizes near SIZE_MAX land here too, before anything changed.
  if (!fits(bytes, alignment)) [[unlikely]] throw std::bad_alloc();
  if (checked_) [[unlikely]] return allocate_checked(bytes, alignment);
  void* p = take_block();
  note_allocate(bytes, block_size_);
  return p;
}

void fixed_slab_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (checked_) [[unlikely]] return deallocate_checked(p, bytes, alignment);
  if (!fits(bytes, alignment)) [[unlikely]] {
    // Nothing of that size was ever handed out here: a caller bug, reported even when unchecked,
    // since pushing it would put a foreign block on the free list.
    return reject_unfit_free(p, bytes, alignment);
  }
  note_deallocate(bytes, block_size_);
  give_block(p);
}

// The registry grows before a block is taken, and the block is counted only once recorded: a
// bad_alloc changes nothing.
void* fixed_slab_resource::allocate_checked(std::size_t bytes, std::size_t alignment) {
  registry_->prepare();
  void* p = take_block();
  try {
    registry_->on_allocate(p, bytes, alignment, block_size_);
  } catch (...) {
    give_block(p);
    throw;
  }
  note_allocate(bytes, block_size_);
  return p;
}

void fixed_slab_resource::deallocate_checked(void* p, std::size_t bytes, std::size_t alignment) {
  detail::checked_registry::free_result r;
  registry_->on_deallocate(p, bytes, alignment, r);
  if (!r.accepted) return;  // reported; the free is ignored
  note_deallocate(bytes, block_size_);
  registry_->finish(r, [this](const detail::checked_block& b) { give_block(b.p); });
}

void fixed_slab_resource::flush_quarantine() {
  if (registry_) registry_->flush([this](const detail::checked_block& b) { give_block(b.p); });
}

void fixed_slab_resource::reject_unfit_free(void* p, std::size_t bytes, std::size_t alignment) {
  report_invalid_free({invalid_free_kind::size_mismatch, p, bytes, alignment, kind()});
}

resource_stats fixed_slab_resource::stats() const {
  resource_stats s;
  counters_.fill(s);
  class_stats c;
  c.name = std::to_string(block_size_);
  c.block_size = block_size_;
  c.allocations = s.allocations;
  c.deallocations = s.deallocations;
  c.live_blocks = s.live_blocks;
  c.bytes_held = central_.bytes_held();
  s.classes.push_back(std::move(c));
  return s;
}

void fixed_slab_resource::release() {
  // Cached blocks are dropped, not returned: their chunks are about to go.
  if (caches_) caches_->drop_all();
  central_.release();
  if (registry_) registry_->clear();
  counters_.forget_live();
}

}  // namespace allocbench
