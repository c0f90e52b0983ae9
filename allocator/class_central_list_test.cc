#include "allocator/class_central_list.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

TEST(ClassCentralList, TakeOneAndGiveBack) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(128, 128, 64 * 1024, up, counters);
  void* p = central.take_one();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(central.bytes_held(), central.span_bytes());
  *static_cast<void**>(p) = nullptr;
  central.give(p, 1);
  EXPECT_EQ(central.release_unused(), central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, ConcurrentBatchesLoseNothing) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 16 * 1024, up, counters);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&central] {
      for (int round = 0; round < 200; ++round) {
        block_chain chain;
        while (chain.count < 48) central.take(chain, 48 - chain.count);
        central.give(chain.head, chain.count);
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every block came back: every span is entirely free.
  central.release_unused();
  EXPECT_EQ(central.bytes_held(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench::detail
