#include "allocator/checked_span_map.h"

#include <bit>
#include <new>

namespace allocbench::detail {
namespace {

template <class Node>
Node* make_node(std::pmr::memory_resource& meta) {
  void* raw = meta.allocate(sizeof(Node), alignof(Node));  // bad_alloc propagates
  return ::new (raw) Node{};                                 // every child null, every word 0
}

}  // namespace

checked_span_map::~checked_span_map() {
  for (auto& r : root_) {
    mid_node* mid = r.load(std::memory_order_relaxed);
    if (mid == nullptr) continue;
    for (auto& c : mid->child) {
      if (leaf_node* leaf = c.load(std::memory_order_relaxed)) meta_->deallocate(leaf, sizeof(leaf_node), alignof(leaf_node));
    }
    meta_->deallocate(mid, sizeof(mid_node), alignof(mid_node));
  }
}

std::atomic<std::uintptr_t>& checked_span_map::slot(std::uintptr_t key) {
  if ((key >> (3 * kLevelBits)) != 0) throw std::bad_alloc();  // beyond the addresses the map covers
  std::atomic<mid_node*>& r = root_[key >> (2 * kLevelBits)];
  mid_node* mid = r.load(std::memory_order_acquire);
  if (mid == nullptr) {
    mid_node* fresh = make_node<mid_node>(*meta_);
    // Another thread recording a span nearby may publish first: then its node is the one.
    if (r.compare_exchange_strong(mid, fresh, std::memory_order_acq_rel)) mid = fresh;
    else meta_->deallocate(fresh, sizeof(mid_node), alignof(mid_node));
  }
  std::atomic<leaf_node*>& m = mid->child[(key >> kLevelBits) & kLevelMask];
  leaf_node* leaf = m.load(std::memory_order_acquire);
  if (leaf == nullptr) {
    leaf_node* fresh = make_node<leaf_node>(*meta_);
    if (m.compare_exchange_strong(leaf, fresh, std::memory_order_acq_rel)) leaf = fresh;
    else meta_->deallocate(fresh, sizeof(leaf_node), alignof(leaf_node));
  }
  return leaf->word[key & kLevelMask];
}

void checked_span_map::record(void* span, std::size_t bytes, std::uintptr_t tag) {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(span) >> kGranuleShift;
  const std::uintptr_t count = bytes >> kGranuleShift;
  // Every node first (may throw), then the words: a failure leaves nothing recorded.
  for (std::uintptr_t k = 0; k < count; ++k) slot(first + k);
  set(span, bytes, reinterpret_cast<std::uintptr_t>(span) | tag);
}

void checked_span_map::erase(void* span, std::size_t bytes) noexcept { set(span, bytes, 0); }

void checked_span_map::set(void* span, std::size_t bytes, std::uintptr_t value) noexcept {
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(span) >> kGranuleShift;
  for (std::uintptr_t k = 0; k < (bytes >> kGranuleShift); ++k) {
    // The nodes exist (recorded before): slot() allocates nothing here.
    slot(first + k).store(value, std::memory_order_release);
  }
}

void* checked_span_recorder::do_allocate(std::size_t bytes, std::size_t alignment) {
  void* span = upstream_->allocate(bytes, alignment);
  try {
    map_->record(span, bytes, tag_);
  } catch (...) {
    upstream_->deallocate(span, bytes, alignment);
    throw;
  }
  return span;
}

void checked_span_recorder::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  map_->erase(p, bytes);
  upstream_->deallocate(p, bytes, alignment);
}

}  // namespace allocbench::detail
