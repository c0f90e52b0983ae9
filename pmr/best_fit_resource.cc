#include "pmr/best_fit_resource.h"

#include <new>
#include <stdexcept>

#include "allocator/asan_poison.h"

namespace allocbench {

using detail::block_tag;
using detail::kBlockGranule;
using detail::kMinBlockBytes;

namespace {

// Where a payload starting at `payload` must move so that it has `alignment`: the gap in front is
// either 0 or big enough to become a free block of its own.
std::size_t front_gap(const std::byte* payload, std::size_t alignment) noexcept {
  if (alignment <= kBlockGranule) return 0;
  const auto at = reinterpret_cast<std::uintptr_t>(payload);
  std::size_t gap = detail::round_up(at, alignment) - at;
  if (gap != 0 && gap < kMinBlockBytes) gap += alignment;
  return gap;
}

// More than a front gap can be: up to alignment - 16, plus one more alignment when that is too small.
std::size_t worst_front_gap(std::size_t alignment) noexcept {
  return alignment <= kBlockGranule ? 0 : alignment + kMinBlockBytes;
}

}  // namespace

best_fit_resource::best_fit_resource(best_fit_options options, std::pmr::memory_resource* upstream)
    : options_(options), upstream_(upstream) {
  if (upstream_ == nullptr) throw std::invalid_argument("best_fit_resource: upstream is null");
  if (options_.region_bytes == 0) throw std::invalid_argument("best_fit_resource: region_bytes is 0");
  if (options_.region_bytes > (std::size_t(1) << 48)) {
    throw std::invalid_argument("best_fit_resource: region_bytes above 2^48");
  }
  options_.region_bytes = detail::round_up(options_.region_bytes, kRegionAlignment);
  if (options_.checked) registry_.emplace(kind());
}

best_fit_resource::~best_fit_resource() {
  std::lock_guard guard(mu_);
  release_locked();
}

// The allocation paths' lock: counts the acquisitions that had to wait.
std::unique_lock<std::mutex> best_fit_resource::lock() {
  std::unique_lock guard(mu_, std::try_to_lock);
  if (!guard.owns_lock()) [[unlikely]] {
    counters_.on_contention();
    guard.lock();
  }
  return guard;
}

// A tag plus the payload rounded to the granule; at least a minimum block (allocate(0) included).
std::size_t best_fit_resource::block_bytes_for(std::size_t bytes) {
  const std::size_t payload = detail::round_up_or_throw(bytes, kBlockGranule);
  const std::size_t need = detail::add_or_throw(payload, sizeof(block_tag));
  return need < kMinBlockBytes ? kMinBlockBytes : need;
}

void* best_fit_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  detail::validate_alignment(alignment);
  // Checked mode's registry grows now, before anything is taken: its bad_alloc changes nothing.
  if (registry_) [[unlikely]] registry_->prepare();
  if (is_direct(bytes, alignment)) [[unlikely]] return allocate_direct(bytes, alignment);

  const std::size_t need = block_bytes_for(bytes);
  // What to look for when the best fit for `need` cannot be aligned; computed here, where an
  // overflow can still throw without changing anything.
  const std::size_t padded = detail::add_or_throw(need, worst_front_gap(alignment));
  block_tag* b;
  {
    auto guard = lock();
    b = take_locked(need, padded, alignment);
    if (b != nullptr) ++region_allocations_;
  }
  if (b == nullptr) [[unlikely]] b = grow_and_take(need, padded, alignment);

  void* p = b->payload();
  if (registry_) {
    try {
      registry_->on_allocate(p, bytes, alignment, b->payload_bytes());
    } catch (...) {
      // Checked mode's bookkeeping failed: take the block back as if it had never been handed out.
      region_header* empty;
      {
        std::lock_guard guard(mu_);
        --region_allocations_;
        empty = free_locked(b);
      }
      give_back_region(empty);
      throw;
    }
  }
  note_allocate(bytes, b->payload_bytes());
  return p;
}

void best_fit_resource::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  if (registry_) [[unlikely]] return deallocate_checked(p, bytes, alignment);
  if (is_direct(bytes, alignment)) [[unlikely]] {
    note_deallocate(bytes, bytes);
    deallocate_direct(p, true);
    return;
  }
  block_tag* b = block_tag::from_payload(p);
  note_deallocate(bytes, b->payload_bytes());
  region_header* empty;
  {
    auto guard = lock();
    ++region_deallocations_;
    empty = free_locked(b);
  }
  give_back_region(empty);
}

// A free is counted when accepted (the program is done with the block); the block goes back when it
// leaves quarantine.
void best_fit_resource::deallocate_checked(void* p, std::size_t bytes, std::size_t alignment) {
  // The block's usable size is read from its tag before on_deallocate puts it in quarantine: from
  // then on another thread's free may evict it and coalesce it with its neighbours. Only a live
  // block's tag is read (a foreign pointer's memory is not ours to read).
  const bool direct = is_direct(bytes, alignment);
  const std::size_t usable =
      !direct && registry_->is_live(p) ? block_tag::from_payload(p)->payload_bytes() : bytes;
  detail::checked_registry::free_result r;
  registry_->on_deallocate(p, bytes, alignment, r);
  if (!r.accepted) return;  // reported; the free is ignored
  if (direct) {
    note_deallocate(bytes, bytes);
    auto guard = lock();
    ++direct_deallocations_;
  } else {
    note_deallocate(bytes, usable);
    auto guard = lock();
    ++region_deallocations_;
  }
  registry_->finish(r, [this](const detail::checked_block& b) { give_back_quarantined(b); });
}

void best_fit_resource::give_back_quarantined(const detail::checked_block& b) noexcept {
  if (is_direct(b.bytes, b.alignment)) {
    {
      auto guard = lock();
      direct_.unlink(b.p);
    }
    counters_.on_upstream_release(detail::direct_blocks::held_bytes(b.p));
    detail::direct_blocks::give_back(upstream_, b.p);
    return;
  }
  region_header* empty;
  {
    auto guard = lock();
    empty = free_locked(block_tag::from_payload(b.p));
  }
  give_back_region(empty);
}

void best_fit_resource::flush_quarantine() {
  if (registry_) registry_->flush([this](const detail::checked_block& b) { give_back_quarantined(b); });
}

void best_fit_resource::give_back_region(region_header* r) noexcept {
  if (r == nullptr) return;
  const std::size_t bytes = r->bytes;
  counters_.on_upstream_release(bytes);
  detail::unpoison_block(r, bytes);  // its free blocks were poisoned; upstream reuses the memory
  upstream_->deallocate(r, bytes, kRegionAlignment);
}

void* best_fit_resource::allocate_direct(std::size_t bytes, std::size_t alignment) {
  // Checked mode asks for room for the canary: a direct block has no slack of its own.
  const std::size_t room = registry_ ? detail::add_or_throw(bytes, detail::kCanaryBytes) : bytes;
  const std::size_t held = detail::direct_blocks::upstream_bytes(room, alignment);
  void* p = detail::direct_blocks::acquire(upstream_, room, alignment);
  counters_.on_upstream_acquire(held);
  {
    auto guard = lock();
    direct_.link(p);
    ++direct_allocations_;
  }
  if (registry_) {
    try {
      registry_->on_allocate(p, bytes, alignment, room);
    } catch (...) {
      deallocate_direct(p, false);
      throw;
    }
  }
  note_allocate(bytes, bytes);
  return p;
}

// `counted`: the block was handed out (false: its allocation is being undone).
void best_fit_resource::deallocate_direct(void* p, bool counted) noexcept {
  {
    auto guard = lock();
    direct_.unlink(p);
    if (counted) ++direct_deallocations_; else --direct_allocations_;
  }
  counters_.on_upstream_release(detail::direct_blocks::held_bytes(p));
  detail::direct_blocks::give_back(upstream_, p);
}

block_tag* best_fit_resource::take_locked(std::size_t need, std::size_t padded,
                                          std::size_t alignment) noexcept {
  block_tag* b = free_.best_fit(need);
  if (b != nullptr && alignment > kBlockGranule && front_gap(b->payload(), alignment) + need > b->size()) {
    // The best fit for the bare size cannot be aligned: ask for room to move the payload.
    b = free_.best_fit(padded);
  }
  if (b == nullptr) return nullptr;
  free_.erase(b);
  return carve_locked(b, need, alignment);
}

// `b` has just left the free index and is big enough for (need, alignment).
block_tag* best_fit_resource::carve_locked(block_tag* b, std::size_t need, std::size_t alignment) noexcept {
  // Asan builds: the whole free block becomes addressable (splitting writes tags inside it); the
  // parts that stay free are poisoned again as they go back into the index.
  detail::unpoison_block(b->payload(), b->payload_bytes());
  b->set_free(false);
  if (const std::size_t gap = front_gap(b->payload(), alignment); gap != 0) {
    // The front part becomes a free block. Its left neighbour is in use (no two free blocks touch),
    // so it needs no merging.
    block_tag* front = b;
    b = detail::split_block(front, gap);
    front->set_free(true);
    insert_free_locked(front);
  }
  if (b->size() - need >= kMinSplitBytes) {
    // The rest is worth keeping; its right neighbour is in use, for the same reason.
    block_tag* rest = detail::split_block(b, need);
    rest->set_free(true);
    insert_free_locked(rest);
  }
  return b;
}

block_tag* best_fit_resource::grow_and_take(std::size_t need, std::size_t padded,
                                            std::size_t alignment) {
  const std::size_t span = detail::add_or_throw(padded, sizeof(region_header));
  std::size_t bytes = detail::round_up_or_throw(span, kRegionAlignment);
  if (bytes < options_.region_bytes) bytes = options_.region_bytes;
  detail::check_upstream_request(bytes, kRegionAlignment);

  auto* r = static_cast<region_header*>(upstream_->allocate(bytes, kRegionAlignment));
  counters_.on_upstream_acquire(bytes);
  new (r) region_header{nullptr, nullptr, bytes, 0};
  auto* whole = new (static_cast<void*>(r + 1)) block_tag{0, 0};
  whole->set(bytes - sizeof(region_header), false, true);

  auto guard = lock();
  link_region_locked(r);
  ++region_allocations_;
  // The fresh block fits by construction; carve it directly rather than search.
  return carve_locked(whole, need, alignment);
}

best_fit_resource::region_header* best_fit_resource::free_locked(block_tag* b) noexcept {
  std::size_t size = b->size();
  bool last = b->is_last();
  if (!last) {
    block_tag* right = b->next();
    if (right->is_free()) {
      free_.erase(right);
      size += right->size();
      last = right->is_last();
    }
  }
  if (!b->is_first()) {
    block_tag* left = b->prev();
    if (left->is_free()) {
      free_.erase(left);
      size += left->size();
      b = left;
    }
  }
  b->set(size, true, last);
  if (!last) b->next()->prev_size = size;

  if (options_.release_empty_regions && b->is_first() && last) {
    auto* r = reinterpret_cast<region_header*>(reinterpret_cast<std::byte*>(b) - sizeof(region_header));
    unlink_region_locked(r);
    return r;
  }
  insert_free_locked(b);
  return nullptr;
}

void best_fit_resource::insert_free_locked(block_tag* b) noexcept {
  // Asan builds: a free block is poisoned except its free-index links (allocator/asan_poison.h).
  detail::poison_free_block(b->payload(), b->payload_bytes(), sizeof(detail::free_links));
  free_.insert(b);
}

void best_fit_resource::link_region_locked(region_header* r) noexcept {
  r->prev = nullptr;
  r->next = regions_;
  if (regions_ != nullptr) regions_->prev = r;
  regions_ = r;
  ++region_count_;
  region_bytes_held_ += r->bytes;
}

void best_fit_resource::unlink_region_locked(region_header* r) noexcept {
  if (r->prev != nullptr) r->prev->next = r->next; else regions_ = r->next;
  if (r->next != nullptr) r->next->prev = r->prev;
  --region_count_;
  region_bytes_held_ -= r->bytes;
}

void best_fit_resource::release_locked() noexcept {
  free_.clear();
  for (region_header* r = regions_; r != nullptr;) {
    region_header* next = r->next;
    const std::size_t bytes = r->bytes;
    counters_.on_upstream_release(bytes);
    detail::unpoison_block(r, bytes);
    upstream_->deallocate(r, bytes, kRegionAlignment);
    r = next;
  }
  regions_ = nullptr;
  region_count_ = 0;
  region_bytes_held_ = 0;
  counters_.on_upstream_release(direct_.release_all(upstream_));
  region_deallocations_ = region_allocations_;
  direct_deallocations_ = direct_allocations_;
}

void best_fit_resource::release() {
  {
    std::lock_guard guard(mu_);
    release_locked();
  }
  if (registry_) registry_->clear();
  counters_.forget_live();
}

resource_stats best_fit_resource::stats() const {
  resource_stats s;
  counters_.fill(s);
  std::lock_guard guard(mu_);
  s.classes.push_back({"regions", 0, region_allocations_, region_deallocations_,
                       region_allocations_ - region_deallocations_, region_bytes_held_});
  s.classes.push_back({"direct", 0, direct_allocations_, direct_deallocations_,
                       direct_allocations_ - direct_deallocations_, direct_.bytes()});
  return s;
}

best_fit_resource::free_space best_fit_resource::inspect() const {
  std::lock_guard guard(mu_);
  return {region_count_, free_.count(), free_.free_bytes(), free_.largest(), direct_.count()};
}

}  // namespace allocbench
