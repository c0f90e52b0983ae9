// The chunks a pool obtained from upstream, kept so that release() can give every one of them back.
//
// The records live in a std::vector on the global heap rather than inside the chunks: a header inside a
// chunk would cost a whole block of every power-of-two chunk. Not synchronised, except bytes_held(),
// which statistics read without the owner's lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory_resource>
#include <vector>

namespace allocbench::detail {

class chunk_list {
 public:
  chunk_list() = default;
  chunk_list(const chunk_list&) = delete;
  chunk_list& operator=(const chunk_list&) = delete;
  // The owner must call release_all() first; a list that still holds chunks here would leak them.
  ~chunk_list() = default;

  // Asks upstream for a chunk and records it. Strong guarantee: if the record cannot be made or upstream
  // throws, the exception propagates and nothing is held.
  void* acquire(std::pmr::memory_resource& upstream, std::size_t bytes, std::size_t alignment);

  // Gives every chunk back to upstream; returns the bytes given back.
  std::size_t release_all(std::pmr::memory_resource& upstream) noexcept;

  std::size_t count() const noexcept { return chunks_.size(); }
  std::size_t bytes_held() const noexcept { return bytes_.load(std::memory_order_relaxed); }

 private:
  struct chunk {
    void* p;
    std::size_t bytes;
    std::size_t alignment;
  };
  std::vector<chunk> chunks_;
  std::atomic<std::size_t> bytes_{0};
};

}  // namespace allocbench::detail
