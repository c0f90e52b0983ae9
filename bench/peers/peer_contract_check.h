// The contract every peer wrapper must keep, checked the same way for the peers linked into the main
// backend (workload_run_test: glibc, tbb) and for those in processes of their own (peer_run_test):
// blocks aligned as asked at sizes from 1 B to 100 KB, and a usable size that covers the request.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

#include "bench/peers/peer_resource.h"

namespace allocbench::bench {

inline void check_peer_contract(std::pmr::memory_resource& r) {
  auto* peer = dynamic_cast<peer_resource*>(&r);
  ASSERT_NE(peer, nullptr);
  std::vector<void*> held;  // many at once, so that blocks come from every size class
  for (std::size_t size = 1; size <= 512; ++size) {
    held.push_back(r.allocate(size, 16));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(held.back()) % 16, 0u) << size;
  }
  for (std::size_t size = 1; size <= 512; ++size) r.deallocate(held[size - 1], size, 16);
  for (std::size_t align : {8, 16, 64, 256, 4096}) {
    for (std::size_t size : {1, 8, 17, 24, 40, 100, 4096, 100000}) {
      void* p = r.allocate(size, align);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0u) << size << "@" << align;
      EXPECT_GE(peer->usable_size(p), size);
      r.deallocate(p, size, align);
    }
  }
}

}  // namespace allocbench::bench
