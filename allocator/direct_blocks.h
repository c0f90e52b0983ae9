// Blocks a resource passes straight to its upstream (too large for its own memory, or with no child
// to serve them), linked in a list so that release() and the destructor can give them back.
//
// Each block carries a header just below the pointer handed out, at the start of the upstream
// allocation:
//
//   upstream block: [direct_header ...padding...][user bytes .................]
//                   ^ base                        ^ base + header_offset(alignment)
//
// header_offset is the header's size rounded up to the alignment, so the user pointer keeps the
// alignment the upstream block has. Both offsets are computed again from (bytes, alignment) on free,
// so the header is only needed for the list and for release().
//
// Not thread-safe: the owner links and unlinks under its own lock; acquire() and give_back() call the
// upstream and need no lock.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <new>

#include "allocator/header_list.h"
#include "allocator/request.h"

namespace allocbench::detail {

class direct_blocks {
 public:
  direct_blocks() = default;
  direct_blocks(const direct_blocks&) = delete;
  direct_blocks& operator=(const direct_blocks&) = delete;

  // What a block of (bytes, alignment) takes from upstream; bad_alloc where that overflows.
  static std::size_t upstream_bytes(std::size_t bytes, std::size_t alignment) {
    return add_or_throw(header_offset(alignment), bytes);
  }

  // Takes a block from upstream (which may throw; nothing is changed then). Not linked yet. A size the
  // upstream could not honour itself (check_upstream_request) is bad_alloc before upstream is asked.
  static void* acquire(std::pmr::memory_resource* upstream, std::size_t bytes, std::size_t alignment) {
    const std::size_t total = upstream_bytes(bytes, alignment);
    check_upstream_request(total, upstream_alignment(alignment));
    std::byte* base = static_cast<std::byte*>(upstream->allocate(total, upstream_alignment(alignment)));
    std::byte* user = base + header_offset(alignment);
    new (static_cast<void*>(user - sizeof(direct_header))) direct_header{nullptr, nullptr, base, bytes, alignment};
    return user;
  }

  // Returns an unlinked block to upstream.
  static void give_back(std::pmr::memory_resource* upstream, void* user) noexcept {
    direct_header* h = header_of(user);
    upstream->deallocate(h->base, header_offset(h->alignment) + h->bytes, upstream_alignment(h->alignment));
  }

  void link(void* user) noexcept { list_.link(header_of(user), held_bytes(user)); }
  void unlink(void* user) noexcept { list_.unlink(header_of(user), held_bytes(user)); }

  // Gives every linked block back to upstream; returns the upstream bytes freed.
  std::size_t release_all(std::pmr::memory_resource* upstream) noexcept {
    return list_.drain([upstream](direct_header* h) {
      give_back(upstream, reinterpret_cast<std::byte*>(h) + sizeof(direct_header));
    });
  }

  std::size_t count() const noexcept { return list_.count(); }
  std::size_t bytes() const noexcept { return list_.bytes(); }  // upstream bytes held

  // What a linked or acquired block holds from upstream.
  static std::size_t held_bytes(void* user) noexcept {
    const direct_header* h = header_of(user);
    return header_offset(h->alignment) + h->bytes;
  }

 private:
  struct direct_header {
    direct_header* prev;
    direct_header* next;
    std::byte* base;
    std::size_t bytes;
    std::size_t alignment;
  };

  static constexpr std::size_t upstream_alignment(std::size_t alignment) noexcept {
    return alignment > alignof(std::max_align_t) ? alignment : alignof(std::max_align_t);
  }
  static constexpr std::size_t header_offset(std::size_t alignment) noexcept {
    return round_up(sizeof(direct_header), upstream_alignment(alignment));
  }
  static direct_header* header_of(void* user) noexcept {
    return reinterpret_cast<direct_header*>(static_cast<std::byte*>(user) - sizeof(direct_header));
  }

  header_list<direct_header> list_;
};

}  // namespace allocbench::detail
