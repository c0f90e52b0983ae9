// The actor/learner pattern as a test load: thread t allocates blocks, fills each with a tag and sends
// it through a mutex-protected mailbox to thread t + 1, which checks the tag and frees it. So every
// free happens on a thread other than the allocating one, while both threads run (they start
// together behind a latch). A block found overwritten fails the test.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <latch>
#include <memory_resource>
#include <mutex>
#include <thread>
#include <vector>

namespace allocbench::testing {

// `threads` threads allocate `per_thread` blocks each, of size_of(t, i) bytes (alignment 8) for the
// i-th block of thread t, and free up to two received blocks per allocation, so that the mailboxes
// stay short; what is left is freed after the join. Returns the sum of the requested sizes.
template <class SizeOf>
std::uint64_t run_cross_thread_ring(std::pmr::memory_resource& r, int threads, int per_thread, SizeOf size_of) {
  struct tagged_block {
    void* p;
    std::size_t bytes;
    std::uint8_t tag;
  };
  struct mailbox {
    std::mutex mu;
    std::deque<tagged_block> blocks;
  };
  std::vector<mailbox> boxes(static_cast<std::size_t>(threads));
  auto check_and_free = [&r](const tagged_block& b) {
    const auto* bytes = static_cast<const std::uint8_t*>(b.p);
    for (std::size_t k = 0; k < b.bytes; ++k) {
      if (bytes[k] != b.tag) {
        ADD_FAILURE() << "block " << b.p << " of " << b.bytes << " bytes overwritten at byte " << k;
        break;
      }
    }
    r.deallocate(b.p, b.bytes, 8);
  };
  std::uint64_t requested = 0;
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < per_thread; ++i) requested += size_of(t, i);
  }
  std::latch start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      start.arrive_and_wait();
      mailbox& out = boxes[static_cast<std::size_t>((t + 1) % threads)];
      mailbox& in = boxes[static_cast<std::size_t>(t)];
      for (int i = 0; i < per_thread; ++i) {
        const std::size_t bytes = size_of(t, i);
        const auto tag = static_cast<std::uint8_t>(t * 37 + i);
        void* p = r.allocate(bytes, 8);
        std::memset(p, tag, bytes);
        {
          std::lock_guard lock(out.mu);
          out.blocks.push_back({p, bytes, tag});
        }
        for (int k = 0; k < 2; ++k) {
          tagged_block b;
          {
            std::lock_guard lock(in.mu);
            if (in.blocks.empty()) break;
            b = in.blocks.front();
            in.blocks.pop_front();
          }
          check_and_free(b);
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  for (mailbox& box : boxes) {
    for (const tagged_block& b : box.blocks) check_and_free(b);
  }
  return requested;
}

}  // namespace allocbench::testing
