#include "allocator/class_central_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "pmr/testing/test_upstream.h"

namespace allocbench::detail {
namespace {

using allocbench::testing::test_upstream;

// Collects a chain's blocks (count of them, from head).
std::vector<void*> blocks_of(const block_chain& chain) {
  std::vector<void*> out;
  void* p = chain.head;
  for (std::size_t i = 0; i < chain.count; ++i) {
    out.push_back(p);
    p = *static_cast<void**>(p);
  }
  return out;
}

// Runs round(t) `rounds` times on each of 4 threads at once, then checks that every block came back:
// every span is entirely free once parked batches are put back.
template <class Round>
void run_four_threads_and_expect_everything_back(class_central_list& central, const test_upstream& up, int rounds,
                                                  Round round) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&round, rounds, t] {
      for (int i = 0; i < rounds; ++i) round(std::size_t(t));
    });
  }
  for (auto& t : threads) t.join();
  central.release_unused();
  EXPECT_EQ(central.bytes_held(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, TakeOneAndGiveBack) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(128, 128, 64 * 1024, up, counters, 1);
  void* p = central.take_one(0);
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
  class_central_list central(64, 64, 16 * 1024, up, counters, 2);
  run_four_threads_and_expect_everything_back(central, up, 200, [&central](std::size_t t) {
    block_chain chain;
    while (chain.count < 48) central.take(chain, 48 - chain.count, t);
    central.give(chain.head, chain.count);
  });
}

// Blocks go back to the shard whose span holds them, whoever gives them and in whatever order: so a
// shard's refills never hand out another shard's blocks.
TEST(ClassCentralList, BlocksReturnToTheirOwnShard) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 16 * 1024, up, counters, 3);
  ASSERT_EQ(central.shard_count(), 3u);
  const auto span_of = [&](void* p) { return reinterpret_cast<std::uintptr_t>(p) & ~(central.span_bytes() - 1); };
  block_chain a, b;
  central.take(a, 8, 0);
  central.take(b, 8, 4);  // 4 % 3: shard 1
  ASSERT_EQ(a.count, 8u);
  ASSERT_EQ(b.count, 8u);
  EXPECT_NE(span_of(a.head), span_of(b.head)) << "two shards never carve from one span";
  EXPECT_EQ(central.bytes_held(), 2 * central.span_bytes());

  // One chain alternating between the shards, as a thread that freed both threads' blocks flushes it.
  const std::vector<void*> blocks = blocks_of(a);
  const std::vector<void*> others = blocks_of(b);
  block_chain mixed;
  for (std::size_t i = 0; i < 8; ++i) {
    mixed.push(blocks[i]);
    mixed.push(others[i]);
  }
  central.give(mixed.head, mixed.count);

  // Shard 1's next refill takes only blocks of shard 1's span (its freed ones first).
  block_chain again;
  central.take(again, 8, 1);
  for (void* p : blocks_of(again)) EXPECT_EQ(span_of(p), span_of(b.head));
  central.give(again.head, again.count);
  EXPECT_EQ(central.release_unused(), 2 * central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// Eight blocks taken for `shard` and given straight back (onto its span's list): what they were.
std::vector<void*> take_and_give_back(class_central_list& central, std::size_t shard) {
  block_chain chain;
  central.take(chain, 8, shard);
  EXPECT_EQ(chain.count, 8u);
  std::vector<void*> blocks = blocks_of(chain);
  central.give(chain.head, chain.count);
  return blocks;
}

// A shard whose spans have no free block takes blocks given back to another shard's spans before it
// fetches a span of its own (a ring of threads frees each block into its neighbour's cache); it never
// carves another shard's never-used blocks.
TEST(ClassCentralList, AnEmptyShardTakesBlocksGivenBackToAnotherShardBeforeANewSpan) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 16 * 1024, up, counters, 2);
  const std::vector<void*> given = take_and_give_back(central, 0);  // onto shard 0's span's list
  ASSERT_EQ(up.outstanding_blocks(), 1u);

  block_chain b;
  EXPECT_EQ(central.take(b, 8, 1), 8u);
  std::vector<void*> got = blocks_of(b);
  std::vector<void*> sorted_given = given;
  std::sort(got.begin(), got.end());
  std::sort(sorted_given.begin(), sorted_given.end());
  EXPECT_EQ(got, sorted_given) << "shard 1 took shard 0's freed blocks";
  EXPECT_EQ(up.outstanding_blocks(), 1u) << "no span fetched for shard 1";
  EXPECT_EQ(central.bytes_held(), central.span_bytes());

  // Shard 0's span has only never-used blocks left: shard 1 now carves a span of its own.
  block_chain c;
  central.take(c, 8, 1);
  EXPECT_EQ(up.outstanding_blocks(), 2u);
  for (void* p : blocks_of(c)) EXPECT_EQ(std::count(given.begin(), given.end(), p), 0);

  // Blocks go back to the span that holds them, whichever shard's refill took them.
  central.give(b.head, b.count);
  central.give(c.head, c.count);
  EXPECT_EQ(central.release_unused(), 2 * central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// Blocks smaller than a line, or not aligned to one, are never lent: a lent block's neighbours on
// its line could be another thread's live blocks (passive false sharing).
TEST(ClassCentralList, BlocksThatShareLinesAreNotLentToAnotherShard) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(48, 16, 16 * 1024, up, counters, 2);
  const std::vector<void*> given = take_and_give_back(central, 0);
  block_chain b;
  central.take(b, 8, 1);
  EXPECT_EQ(up.outstanding_blocks(), 2u) << "shard 1 carved a span of its own";
  for (void* p : blocks_of(b)) EXPECT_EQ(std::count(given.begin(), given.end(), p), 0);
  central.give(b.head, b.count);
  EXPECT_EQ(central.release_unused(), 2 * central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, AFlushedBatchIsParkedAndTakenBackWhole) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 16 * 1024, up, counters, 2, /*parked_batch=*/8);
  block_chain a;
  central.take(a, 8, 0);
  ASSERT_EQ(a.count, 8u);
  const std::vector<void*> given = blocks_of(a);
  central.give_batch(a, 0);

  // Shard 0's refill gets the parked batch: the same blocks in the same order.
  block_chain back;
  EXPECT_EQ(central.take(back, 8, 0), 8u);
  EXPECT_EQ(blocks_of(back), given);
  EXPECT_EQ(back.tail, given.back());

  // Shard 1 has nothing parked: its refill takes the batch shard 0 parked rather than carve a span.
  central.give_batch(back, 0);
  block_chain stolen;
  EXPECT_EQ(central.take(stolen, 8, 1), 8u);
  EXPECT_EQ(blocks_of(stolen), given);
  EXPECT_EQ(central.bytes_held(), central.span_bytes());
  // With nothing parked anywhere, it carves its own span.
  block_chain other;
  central.take(other, 8, 1);
  for (void* p : blocks_of(other)) EXPECT_EQ(std::count(given.begin(), given.end(), p), 0);
  EXPECT_EQ(central.bytes_held(), 2 * central.span_bytes());
  central.give(other.head, other.count);
  back = stolen;

  // A single-block take (no cache) never takes a parked batch.
  central.give_batch(back, 0);
  void* one = central.take_one(0);
  EXPECT_EQ(std::count(given.begin(), given.end(), one), 0);
  *static_cast<void**>(one) = nullptr;
  central.give(one, 1);

  // release_unused puts parked blocks back on their spans first, so every span is free again.
  EXPECT_EQ(central.release_unused(), 2 * central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, AFullParkingGoesToTheSpansAndLongBatchesAreNeverParked) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 64 * 1024, up, counters, 1, /*parked_batch=*/4);
  std::vector<block_chain> batches(transfer_stack::kCapacity + 1);
  for (block_chain& b : batches) central.take(b, 4, 0);
  block_chain long_one;
  central.take(long_one, 6, 0);
  for (const block_chain& b : batches) central.give_batch(b, 0);  // the last finds the stack full
  central.give_batch(long_one, 0);                                 // longer than parked_batch
  // Exactly kCapacity batches come back whole, newest first; then the spans serve.
  for (std::size_t i = transfer_stack::kCapacity; i-- > 0;) {
    block_chain back;
    central.take(back, 4, 0);
    EXPECT_EQ(blocks_of(back), blocks_of(batches[i])) << "parked batch " << i;
    central.give(back.head, back.count);
  }
  EXPECT_EQ(central.release_unused(), central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, ABatchThatFindsItsParkingFullIsParkedInAnEmptyNeighbourAndTakenBackWhole) {
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 64 * 1024, up, counters, 3, /*parked_batch=*/4);
  std::vector<block_chain> batches(transfer_stack::kCapacity + 1);
  for (block_chain& b : batches) central.take(b, 4, 0);
  for (const block_chain& b : batches) central.give_batch(b, 0);  // the last finds shard 0 full
  const std::size_t held = central.bytes_held();
  // Shard 0's refills get its own parked batches back, newest first, then the one parked next door.
  for (std::size_t i = transfer_stack::kCapacity; i-- > 0;) {
    block_chain back;
    central.take(back, 4, 0);
    EXPECT_EQ(blocks_of(back), blocks_of(batches[i])) << "parked batch " << i;
  }
  block_chain spilled;
  EXPECT_EQ(central.take(spilled, 4, 0), 4u);
  EXPECT_EQ(blocks_of(spilled), blocks_of(batches.back()));
  EXPECT_EQ(central.bytes_held(), held);  // no span was carved for any of them
  for (std::size_t i = 0; i < transfer_stack::kCapacity; ++i) central.give(batches[i].head, batches[i].count);
  central.give(spilled.head, spilled.count);
  EXPECT_EQ(central.release_unused(), central.span_bytes());
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, ABatchIsNotParkedInANeighbourThatHasABatchParked) {
  // A neighbour with a batch parked is a thread at work: its parking is its own. The batch goes onto
  // the spans, and no refill of either shard takes it back whole.
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 64 * 1024, up, counters, 2, /*parked_batch=*/4);
  std::vector<block_chain> batches(transfer_stack::kCapacity + 1);
  for (block_chain& b : batches) central.take(b, 4, 0);
  block_chain neighbours;
  central.take(neighbours, 4, 1);
  central.give_batch(neighbours, 1);
  const std::vector<void*> last = blocks_of(batches.back());  // its links change on the spans
  for (const block_chain& b : batches) central.give_batch(b, 0);
  std::vector<block_chain> back(transfer_stack::kCapacity + 2);
  for (std::size_t i = 0; i < transfer_stack::kCapacity; ++i) central.take(back[i], 4, 0);
  central.take(back[transfer_stack::kCapacity], 4, 1);  // shard 1's own batch
  EXPECT_EQ(blocks_of(back[transfer_stack::kCapacity]), blocks_of(neighbours));
  central.take(back.back(), 4, 0);  // nothing parked anywhere: the spans serve
  EXPECT_NE(blocks_of(back.back()), last);
  for (const block_chain& b : back) central.give(b.head, b.count);
  central.release_unused();
  EXPECT_EQ(central.bytes_held(), 0u);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ClassCentralList, ConcurrentParkingAcrossShardsLosesNothing) {
  // Each thread flushes into the next thread's shard what it took from its own (the cross_thread
  // pattern), so parked batches hold other shards' blocks, and release_unused must sort them out.
  test_upstream up;
  stats_counters counters;
  class_central_list central(64, 64, 16 * 1024, up, counters, 2, /*parked_batch=*/16);
  run_four_threads_and_expect_everything_back(central, up, 300, [&central](std::size_t t) {
    block_chain chain;
    central.take(chain, 16, t);
    central.give_batch(chain, t + 1);
  });
}

TEST(ClassCentralList, NoShardsIsAnError) {
  test_upstream up;
  stats_counters counters;
  EXPECT_THROW(class_central_list(64, 64, 16 * 1024, up, counters, 0), std::invalid_argument);
}

}  // namespace
}  // namespace allocbench::detail
