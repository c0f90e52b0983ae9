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

#include "pmr/resource_stats.h"
#include "pmr/testing/test_upstream.h"

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

// The figures after run_cross_thread_ring on r: `allocations` made and as many freed, nothing live,
// `requested` bytes asked for in all, and r holding exactly what it took from `up`.
inline void expect_ring_totals(const resource_stats& s, const test_upstream& up, std::uint64_t allocations,
                               std::uint64_t requested) {
  EXPECT_EQ(s.allocations, allocations);
  EXPECT_EQ(s.deallocations, s.allocations);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_requested_bytes, 0u);
  EXPECT_EQ(s.live_usable_bytes, 0u);
  EXPECT_EQ(s.total_requested_bytes, requested);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
}

// `threads` threads, released together behind a latch so that their refills overlap as much as they
// can, each allocate `per_thread` blocks of bytes_of(t) bytes (alignment 8), then free them.
template <class BytesOf>
void run_simultaneous_batches(std::pmr::memory_resource& r, std::size_t threads, int per_thread, BytesOf bytes_of) {
  std::latch start(static_cast<std::ptrdiff_t>(threads));
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      start.arrive_and_wait();
      const std::size_t bytes = bytes_of(t);
      std::vector<void*> blocks;
      for (int i = 0; i < per_thread; ++i) blocks.push_back(r.allocate(bytes, 8));
      for (void* p : blocks) r.deallocate(p, bytes, 8);
    });
  }
  for (std::thread& w : workers) w.join();
}

}  // namespace allocbench::testing
