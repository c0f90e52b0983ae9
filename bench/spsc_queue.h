// A bounded single-producer single-consumer queue of blocks, for the ring_handoff pattern: thread i
// pushes the blocks it allocates, thread i+1 pops and frees them. Never blocks: a full or empty queue
// is reported, and the runner does the other operation instead (see runner.cc), which is what keeps
// the ring free of deadlock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace allocbench::bench {

struct handed_block {
  void* ptr;
  std::uint32_t size;
};

class spsc_queue {
 public:
  explicit spsc_queue(std::size_t capacity) : slots_(capacity + 1) {}

  bool try_push(handed_block b) noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t next = tail + 1 == slots_.size() ? 0 : tail + 1;
    if (next == head_.load(std::memory_order_acquire)) return false;
    slots_[tail] = b;
    tail_.store(next, std::memory_order_release);  // publishes the block (and its touched bytes)
    return true;
  }

  // Exact for the producer (only it adds), which is the only caller.
  bool full() const noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t next = tail + 1 == slots_.size() ? 0 : tail + 1;
    return next == head_.load(std::memory_order_acquire);
  }

  bool try_pop(handed_block& out) noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return false;
    out = slots_[head];
    head_.store(head + 1 == slots_.size() ? 0 : head + 1, std::memory_order_release);
    return true;
  }

 private:
  std::vector<handed_block> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};  // consumer's index, apart from the producer's
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace allocbench::bench
