// An intrusive singly linked list of free blocks: each free block holds the link to the next one in
// its own first bytes, so the list costs no memory beyond its head and count.
//
// Not synchronised: the owner (a locked central list, a thread's cache) guards it. Blocks must be at
// least sizeof(void*) bytes and aligned to alignof(void*); every resource rounds its strides so.
#pragma once

#include <cstddef>
#include <new>

namespace allocbench::detail {

class free_list {
 public:
  free_list() = default;
  free_list(const free_list&) = delete;
  free_list& operator=(const free_list&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

  void push(void* block) noexcept {
    head_ = ::new (block) node{head_};
    ++size_;
  }

  // The most recently pushed block (the one most likely still in cache), or nullptr when empty.
  void* pop() noexcept {
    node* n = head_;
    if (n == nullptr) return nullptr;
    head_ = n->next;
    --size_;
    return n;
  }

  // Moves up to `count` blocks from the front of this list to `to`; returns how many moved.
  std::size_t move_to(free_list& to, std::size_t count) noexcept {
    std::size_t moved = 0;
    while (moved < count && head_ != nullptr) {
      to.push(pop());
      ++moved;
    }
    return moved;
  }

  // Forgets every block without touching them (their memory is about to go back upstream).
  void clear() noexcept {
    head_ = nullptr;
    size_ = 0;
  }

 private:
  struct node {
    node* next;
  };
  node* head_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace allocbench::detail
