// An intrusive doubly linked list of block headers (each with `prev` and `next`), with a count and a
// byte total, for the owners that must find every block they handed out again at release():
// direct_blocks (upstream blocks) and page_blocks (mappings of their own).
//
// Not thread-safe: the owner links and unlinks under its own lock.
#pragma once

#include <cstddef>

namespace allocbench::detail {

template <class Header>
class header_list {
 public:
  void link(Header* h, std::size_t bytes) noexcept {
    h->prev = nullptr;
    h->next = head_;
    if (head_ != nullptr) head_->prev = h;
    head_ = h;
    ++count_;
    bytes_ += bytes;
  }

  void unlink(Header* h, std::size_t bytes) noexcept {
    if (h->prev != nullptr) h->prev->next = h->next; else head_ = h->next;
    if (h->next != nullptr) h->next->prev = h->prev;
    --count_;
    bytes_ -= bytes;
  }

  // Calls give(h) for every header (which may free the memory it lives in) and empties the list;
  // returns the bytes the list counted.
  template <class Give>
  std::size_t drain(Give give) noexcept {
    const std::size_t freed = bytes_;
    for (Header* h = head_; h != nullptr;) {
      Header* next = h->next;
      give(h);
      h = next;
    }
    head_ = nullptr;
    count_ = 0;
    bytes_ = 0;
    return freed;
  }

  std::size_t count() const noexcept { return count_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  Header* head_ = nullptr;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace allocbench::detail
