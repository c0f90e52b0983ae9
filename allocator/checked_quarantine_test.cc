// The per-thread quarantine ring: a block waits for at least kEvictBatch later frees, and a full
// ring gives its oldest half, oldest first.
#include "allocator/checked_quarantine.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace allocbench::detail {
namespace {

void* block(std::uintptr_t i) { return reinterpret_cast<void*>((i + 1) * 64); }

TEST(CheckedQuarantineRing, AFullRingGivesItsOldestHalfOldestFirst) {
  using ring_t = checked_quarantine_ring;
  ring_t ring;
  std::vector<void*> left;  // in the order blocks left
  std::uintptr_t pushed = 0;
  for (int round = 0; round < 5; ++round) {
    bool full = false;
    while (!full) {
      full = ring.push({block(pushed), pushed});
      ++pushed;
    }
    ASSERT_EQ(pushed, ring_t::kBlocks + std::uintptr_t(round) * ring_t::kEvictBatch);
    quarantined_block out[ring_t::kEvictBatch];
    ring.take_oldest(out);
    for (const quarantined_block& b : out) left.push_back(b.p);
  }
  // FIFO: block k leaves k-th, and after at least kEvictBatch later pushes.
  for (std::size_t k = 0; k < left.size(); ++k) ASSERT_EQ(left[k], block(k));
  std::size_t still = 0;
  ring.for_each([&](quarantined_block b) { EXPECT_EQ(b.p, block(left.size() + still++)); });
  EXPECT_EQ(still, ring_t::kBlocks - ring_t::kEvictBatch);
  // pop() drains oldest first too.
  for (quarantined_block b = ring.pop(); b.p != nullptr; b = ring.pop()) {
    ASSERT_EQ(b.p, block(left.size()));
    left.push_back(b.p);
  }
  EXPECT_EQ(left.size(), pushed);
}

}  // namespace
}  // namespace allocbench::detail
