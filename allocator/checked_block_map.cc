#include "allocator/checked_block_map.h"

#include <new>

namespace allocbench::detail {

checked_block_map::checked_block_map(std::pmr::memory_resource& meta) : meta_(meta), root_(new_node()) {
  try {
    spare_node_[0].store(new_node(), std::memory_order_relaxed);
    spare_node_[1].store(new_node(), std::memory_order_relaxed);
    spare_window_.store(new_window(), std::memory_order_relaxed);
  } catch (...) {
    for (auto& s : spare_node_) {
      if (node* n = s.load(std::memory_order_relaxed)) delete_node(n);
    }
    delete_node(root_);
    throw;
  }
}

checked_block_map::~checked_block_map() {
  walk([this](void* w) { delete_window(static_cast<window*>(w)); }, [this](node* n) { delete_node(n); });
  delete_node(root_);
  for (auto& s : spare_node_) {
    if (node* n = s.load(std::memory_order_relaxed)) delete_node(n);
  }
  if (window* w = spare_window_.load(std::memory_order_relaxed)) delete_window(w);
}

checked_block_map::node* checked_block_map::new_node() {
  void* raw = meta_.allocate(sizeof(node), alignof(node));
  return new (raw) node();  // value-initialised: every child null
}

checked_block_map::window* checked_block_map::new_window() {
  void* raw = meta_.allocate(sizeof(window), alignof(window));
  return new (raw) window();  // every word 0: no block
}

void checked_block_map::delete_node(node* n) noexcept { meta_.deallocate(n, sizeof(node), alignof(node)); }
void checked_block_map::delete_window(window* w) noexcept { meta_.deallocate(w, sizeof(window), alignof(window)); }

checked_block_map::node* checked_block_map::child_node(node& parent, std::size_t i) {
  void* have = parent.child[i].load(std::memory_order_acquire);
  if (have != nullptr) return static_cast<node*>(have);
  node* fresh = nullptr;
  for (auto& s : spare_node_) {
    if ((fresh = s.exchange(nullptr, std::memory_order_acq_rel)) != nullptr) break;
  }
  if (fresh == nullptr) {
    fresh = new_node();  // several threads opened new windows at once: may throw
  } else {
    spares_low_.store(true, std::memory_order_relaxed);
  }
  if (parent.child[i].compare_exchange_strong(have, fresh, std::memory_order_acq_rel)) return fresh;
  // Another thread published one first: keep ours as a spare, or give it back.
  for (auto& s : spare_node_) {
    node* empty = nullptr;
    if (s.compare_exchange_strong(empty, fresh, std::memory_order_acq_rel)) return static_cast<node*>(have);
  }
  delete_node(fresh);
  return static_cast<node*>(have);
}

checked_block_map::window* checked_block_map::window_for(std::uintptr_t p) {
  if ((p >> kAddressBits) != 0) throw std::bad_alloc();  // no such user-space address on our targets
  if (window* w = find(p)) return w;
  node* mid = child_node(*root_, index(p, 0));
  node* leaf = child_node(*mid, index(p, 1));
  std::atomic<void*>& slot = leaf->child[index(p, 2)];
  void* have = slot.load(std::memory_order_acquire);
  if (have != nullptr) return static_cast<window*>(have);
  window* fresh = spare_window_.exchange(nullptr, std::memory_order_acq_rel);
  if (fresh == nullptr) {
    fresh = new_window();  // may throw, as above
  } else {
    spares_low_.store(true, std::memory_order_relaxed);
  }
  if (slot.compare_exchange_strong(have, fresh, std::memory_order_acq_rel)) return fresh;
  window* empty = nullptr;
  if (!spare_window_.compare_exchange_strong(empty, fresh, std::memory_order_acq_rel)) delete_window(fresh);
  return static_cast<window*>(have);
}

void checked_block_map::refill_spares() {
  // Cleared first: a spare taken while we refill sets it again.
  spares_low_.store(false, std::memory_order_relaxed);
  try {
    for (auto& s : spare_node_) {
      if (s.load(std::memory_order_acquire) != nullptr) continue;
      node* fresh = new_node();
      node* empty = nullptr;
      if (!s.compare_exchange_strong(empty, fresh, std::memory_order_acq_rel)) delete_node(fresh);
    }
    if (spare_window_.load(std::memory_order_acquire) == nullptr) {
      window* fresh = new_window();
      window* empty = nullptr;
      if (!spare_window_.compare_exchange_strong(empty, fresh, std::memory_order_acq_rel)) delete_window(fresh);
    }
  } catch (...) {
    spares_low_.store(true, std::memory_order_relaxed);  // try again on the next allocation
    throw;
  }
}

}  // namespace allocbench::detail
