// scalable_resource with threads: thread-exit flushing, frees from other threads, many instances per
// thread, destruction while threads hold caches, release_unused after a peak, stats across threads.
// Synchronisation is by join, barriers and a blocking queue: no sleeps, no timing.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pmr/scalable_resource.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench {
namespace {

using testing::test_upstream;

scalable_options unchecked() {
  scalable_options o;
  o.checked = false;
  return o;
}

struct block {
  void* p;
  std::size_t bytes;
};

// A blocking queue of blocks: the handoff between a producer and a consumer thread.
class block_queue {
 public:
  void push(block b) {
    {
      std::lock_guard lock(mu_);
      q_.push_back(b);
    }
    cv_.notify_one();
  }
  block pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty(); });
    block b = q_.front();
    q_.pop_front();
    return b;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<block> q_;
};

std::size_t size_for(int i) { return std::size_t(16 + (i * 37) % 900); }

// Threads allocate and exit; the main thread frees their blocks afterwards. Every block must come
// back to a central list (the exiting threads flushed their caches, the main thread's drains in
// release_unused), so every span can go back upstream.
TEST(ScalableThreads, ExitingThreadsFlushTheirCaches) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  std::vector<std::vector<block>> handed(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<block> mine;
      for (int i = 0; i < 3000; ++i) {
        const std::size_t bytes = size_for(i + t);
        void* p = r.allocate(bytes, 16);
        std::memset(p, t, bytes);
        mine.push_back({p, bytes});
      }
      // Free half here (into this thread's cache), hand the other half over.
      for (std::size_t i = 0; i < mine.size(); ++i) {
        if (i % 2 == 0) r.deallocate(mine[i].p, mine[i].bytes, 16);
        else handed[t].push_back(mine[i]);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.thread_count(), 0u);
  for (int t = 0; t < 4; ++t) {
    for (const block& b : handed[t]) {
      ASSERT_EQ(static_cast<unsigned char*>(b.p)[b.bytes - 1], t);
      r.deallocate(b.p, b.bytes, 16);
    }
  }
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, 4u * 3000);
  EXPECT_EQ(s.deallocations, 4u * 3000);
  EXPECT_EQ(s.live_requested_bytes, 0u);
  r.release_unused();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(r.stats().bytes_held, 0u);
}

// Actor/learner ring: thread i allocates, thread i+1 frees. Every free is of another thread's block.
// Checked mode too: its block index is shared by the threads, and a quarantine shard by threads
// beyond 128 (tsan).
TEST(ScalableThreads, CrossThreadFreesWithEightThreads) {
 for (bool checked : {false, true}) {
  SCOPED_TRACE(checked ? "checked" : "unchecked");
  test_upstream up;
  scalable_options o = unchecked();
  o.checked = checked;
  scalable_resource r(o, &up);
  constexpr int kThreads = 8, kBlocks = 4000;
  std::vector<block_queue> queues(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      block_queue& out = queues[(t + 1) % kThreads];
      block_queue& in = queues[t];
      for (int i = 0; i < kBlocks; ++i) {
        const std::size_t bytes = size_for(i * 3 + t);
        void* p = r.allocate(bytes, 16);
        std::memset(p, 0x5a, bytes);
        out.push({p, bytes});
        const block b = in.pop();
        EXPECT_EQ(static_cast<unsigned char*>(b.p)[0], 0x5a);
        r.deallocate(b.p, b.bytes, 16);
      }
    });
  }
  for (auto& t : threads) t.join();
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, std::uint64_t(kThreads) * kBlocks);
  EXPECT_EQ(s.deallocations, std::uint64_t(kThreads) * kBlocks);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_usable_bytes, 0u);
  r.release_unused();  // flushes the quarantine first
  EXPECT_EQ(up.outstanding_blocks(), 0u);
 }
}

TEST(ScalableThreads, ManyInstancesOnOneThread) {
  test_upstream up;
  std::vector<std::unique_ptr<scalable_resource>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(std::make_unique<scalable_resource>(unchecked(), &up));
  std::thread worker([&] {
    std::vector<std::vector<block>> live(rs.size());
    for (int round = 0; round < 200; ++round) {
      for (std::size_t k = 0; k < rs.size(); ++k) {
        const std::size_t bytes = size_for(round + int(k));
        live[k].push_back({rs[k]->allocate(bytes, 8), bytes});
        if (round % 3 == 2) {
          rs[k]->deallocate(live[k].front().p, live[k].front().bytes, 8);
          live[k].erase(live[k].begin());
        }
      }
    }
    for (std::size_t k = 0; k < rs.size(); ++k) {
      EXPECT_EQ(rs[k]->stats().live_blocks, live[k].size());
      EXPECT_EQ(rs[k]->stats().allocations, 200u);
      for (const block& b : live[k]) rs[k]->deallocate(b.p, b.bytes, 8);
    }
  });
  worker.join();
  // Destroy in an interleaved order.
  for (std::size_t k = 0; k < rs.size(); k += 2) rs[k].reset();
  for (auto& r : rs) r.reset();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// The resource is destroyed while threads that used it (and hold caches for it) are alive; they exit
// afterwards, and keep using another resource in between.
TEST(ScalableThreads, DestroyedWhileThreadsStillHoldCaches) {
  test_upstream up;
  auto doomed = std::make_unique<scalable_resource>(unchecked(), &up);
  scalable_resource survivor(unchecked(), &up);
  std::barrier sync(5);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<block> mine;
      for (int i = 0; i < 500; ++i) mine.push_back({doomed->allocate(size_for(i), 16), size_for(i)});
      for (const block& b : mine) doomed->deallocate(b.p, b.bytes, 16);  // cached in this thread
      sync.arrive_and_wait();  // caches full
      sync.arrive_and_wait();  // main destroyed the resource
      for (int i = 0; i < 500; ++i) survivor.deallocate(survivor.allocate(size_for(i), 16), size_for(i), 16);
    });
  }
  sync.arrive_and_wait();
  EXPECT_EQ(doomed->thread_count(), 4u);
  doomed.reset();
  EXPECT_EQ(up.outstanding_bytes(), survivor.stats().bytes_held);  // the doomed one gave all back
  sync.arrive_and_wait();
  for (auto& t : threads) t.join();
  EXPECT_EQ(survivor.stats().live_blocks, 0u);
}

TEST(ScalableThreads, ReleaseUnusedAfterAPeakKeepsLiveBlocks) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  std::vector<block> blocks;
  for (int i = 0; i < 20000; ++i) {
    const std::size_t bytes = i % 2 ? 64 : 200;
    void* p = r.allocate(bytes, 16);
    std::memset(p, i & 0xff, bytes);
    blocks.push_back({p, bytes});
  }
  const resource_stats peak = r.stats();
  std::vector<std::pair<block, int>> kept;
  for (int i = 0; i < int(blocks.size()); ++i) {
    if (i % 5000 == 0) kept.push_back({blocks[i], i});  // each pins one span
    else r.deallocate(blocks[i].p, blocks[i].bytes, 16);
  }
  const std::size_t released = r.release_unused();
  const resource_stats after = r.stats();
  EXPECT_GT(released, 0u);
  // Spans beyond a shard's one spare went back as they emptied; release_unused gave back the rest.
  EXPECT_LE(after.bytes_held, peak.bytes_held - released);
  EXPECT_LT(after.bytes_held, peak.bytes_held / 4);
  EXPECT_EQ(up.outstanding_bytes(), after.bytes_held);
  EXPECT_GE(after.peak_live_bytes, peak.live_bytes);
  EXPECT_EQ(after.live_blocks, kept.size());
  for (auto& [b, i] : kept) {
    for (std::size_t j = 0; j < b.bytes; ++j) ASSERT_EQ(static_cast<unsigned char*>(b.p)[j], i & 0xff);
    r.deallocate(b.p, b.bytes, 16);
  }
  // The resource keeps working after the shrink.
  void* p = r.allocate(64, 16);
  r.deallocate(p, 64, 16);
  r.release_unused();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// Counts are exact once the threads are done, whichever thread counted what. A reader runs alongside
// the writers: its snapshots are not atomic (see resource_stats.h), so it checks only their shape;
// it is there for tsan, which checks that reading the threads' counters is race-free.
TEST(ScalableThreads, StatsAreConsistentAcrossThreads) {
  test_upstream up;
  scalable_resource r(unchecked(), &up);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      const resource_stats s = r.stats();
      EXPECT_EQ(s.classes.size(), r.class_sizes().size() + 1);
      EXPECT_EQ(s.live_bytes, s.live_usable_bytes);
    }
  });
  constexpr int kThreads = 4, kOps = 5000;
  std::vector<std::vector<block>> left(kThreads);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        const std::size_t bytes = size_for(i + 7 * t) + (i % 50 == 0 ? 40000 : 0);
        void* p = r.allocate(bytes, 16);
        if (i % 4 == 0) left[t].push_back({p, bytes});
        else r.deallocate(p, bytes, 16);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  std::uint64_t live = 0, live_bytes = 0;
  for (auto& l : left) {
    live += l.size();
    for (const block& b : l) live_bytes += b.bytes;
  }
  const resource_stats s = r.stats();
  EXPECT_EQ(s.allocations, std::uint64_t(kThreads) * kOps);
  EXPECT_EQ(s.live_blocks, live);
  EXPECT_EQ(s.live_requested_bytes, live_bytes);
  EXPECT_GE(s.live_usable_bytes, live_bytes);
  EXPECT_GE(s.peak_live_bytes, s.live_bytes);
  EXPECT_EQ(s.bytes_held, up.outstanding_bytes());
  for (auto& l : left) {
    for (const block& b : l) r.deallocate(b.p, b.bytes, 16);
  }
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

}  // namespace
}  // namespace allocbench
