#include "allocator/counted_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

namespace allocbench::detail {
namespace {

std::uint64_t contention(const stats_counters& c) {
  resource_stats s;
  c.fill(s);
  return s.contention_events;
}

TEST(CountedMutex, UncontendedLocksCountNothing) {
  stats_counters c;
  counted_mutex mu;
  for (int i = 0; i < 100; ++i) {
    counted_lock lock(mu, c);
  }
  EXPECT_EQ(contention(c), 0u);
}

TEST(CountedMutex, ALockThatFindsItTakenCountsOnceAndStillExcludes) {
  stats_counters c;
  counted_mutex mu;
  int guarded = 0;
  mu.lock(c);
  std::latch started(1);
  std::thread waiter([&] {
    started.count_down();
    counted_lock lock(mu, c);  // must block: the main thread holds the mutex
    guarded += 1;
  });
  started.wait();
  // The count is bumped before the waiter blocks, so seeing it means the waiter found the lock taken.
  while (contention(c) == 0) std::this_thread::yield();
  guarded += 10;  // still exclusive: the waiter has not entered
  mu.unlock();
  waiter.join();
  EXPECT_EQ(guarded, 11);
  EXPECT_EQ(contention(c), 1u);
}

TEST(CountedMutex, TryLockFailsWhileHeld) {
  stats_counters c;
  counted_mutex mu;
  mu.lock(c);
  std::thread other([&] { EXPECT_FALSE(mu.try_lock()); });
  other.join();
  mu.unlock();
  EXPECT_TRUE(mu.try_lock());
  mu.unlock();
  EXPECT_EQ(contention(c), 0u);  // try_lock is not a lock acquisition that waits
}

}  // namespace
}  // namespace allocbench::detail
