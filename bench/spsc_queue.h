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

// Each side keeps its own copy of the other side's index and rereads the shared one only when the
// copy says full (producer) or empty (consumer): otherwise every push and pop would pull the other
// core's cache line, and at tens of millions of ops per second the harness would measure that
// ping-pong rather than the allocator.
class spsc_queue {
 public:
  explicit spsc_queue(std::size_t capacity) : slots_(capacity + 1) {}

  bool try_push(handed_block b) noexcept {
    if (full()) return false;
    const std::size_t tail = producer_.tail;
    slots_[tail] = b;
    producer_.tail = advance(tail);
    tail_.store(producer_.tail, std::memory_order_release);  // publishes the block (and its touched bytes)
    return true;
  }

  // Exact for the producer (only it adds), which is the only caller.
  bool full() noexcept {
    const std::size_t next = advance(producer_.tail);
    if (next != producer_.head_seen) return false;
    producer_.head_seen = head_.load(std::memory_order_acquire);
    return next == producer_.head_seen;
  }

  // Batches (ring.batch > 1): whether `n` more blocks fit (producer only) ...
  bool room_for(std::size_t n) noexcept {
    if (free_seen() >= n) return true;
    producer_.head_seen = head_.load(std::memory_order_acquire);
    return free_seen() >= n;
  }
  // ... whether at least `n` blocks are queued (consumer only) ...
  bool holds(std::size_t n) noexcept {
    if (used_seen() >= n) return true;
    consumer_.tail_seen = tail_.load(std::memory_order_acquire);
    return used_seen() >= n;
  }
  // ... and the whole batch pushed, or popped, with one publication: room_for(n), holds(n) first.
  void push_many(const handed_block* b, std::size_t n) noexcept {
    std::size_t tail = producer_.tail;
    for (std::size_t i = 0; i < n; ++i, tail = advance(tail)) slots_[tail] = b[i];
    producer_.tail = tail;
    tail_.store(tail, std::memory_order_release);
  }
  void pop_many(handed_block* out, std::size_t n) noexcept {
    std::size_t head = consumer_.head;
    for (std::size_t i = 0; i < n; ++i, head = advance(head)) out[i] = slots_[head];
    consumer_.head = head;
    head_.store(head, std::memory_order_release);
  }

  bool try_pop(handed_block& out) noexcept {
    const std::size_t head = consumer_.head;
    if (head == consumer_.tail_seen) {
      consumer_.tail_seen = tail_.load(std::memory_order_acquire);
      if (head == consumer_.tail_seen) return false;
    }
    out = slots_[head];
    consumer_.head = advance(head);
    head_.store(consumer_.head, std::memory_order_release);
    return true;
  }

 private:
  std::size_t advance(std::size_t i) const noexcept { return i + 1 == slots_.size() ? 0 : i + 1; }
  std::size_t distance(std::size_t from, std::size_t to) const noexcept {
    return to >= from ? to - from : to + slots_.size() - from;
  }
  std::size_t free_seen() const noexcept { return slots_.size() - 1 - distance(producer_.head_seen, producer_.tail); }
  std::size_t used_seen() const noexcept { return distance(consumer_.head, consumer_.tail_seen); }

  std::vector<handed_block> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};  // written by the consumer
  alignas(64) std::atomic<std::size_t> tail_{0};  // written by the producer
  alignas(64) struct {
    std::size_t tail = 0;       // == tail_, the producer's own copy
    std::size_t head_seen = 0;  // head_ as last read: the consumer is at least this far
  } producer_;
  alignas(64) struct {
    std::size_t head = 0;       // == head_
    std::size_t tail_seen = 0;  // tail_ as last read
  } consumer_;
};

}  // namespace allocbench::bench
