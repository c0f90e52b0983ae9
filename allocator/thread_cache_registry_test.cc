#include "allocator/thread_cache_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <memory>
#include <thread>
#include <vector>

namespace allocbench::detail {
namespace {

// A cache is an int counting the calls made through it; the owner sums what comes back.
class counting_owner : public thread_cache_owner {
 public:
  ~counting_owner() { destroy_all_caches(); }
  using thread_cache_owner::destroy_all_caches;

  void use() {
    if (auto* c = static_cast<int*>(local_cache())) ++*c;
    else ++uncached;
  }

  std::atomic<int> created{0};
  std::atomic<int> flushed_on_exit{0};    // counts returned by exiting threads
  std::atomic<int> discarded{0};          // caches destroyed with the instance
  std::atomic<int> uncached{0};

 private:
  void* create_cache() override {
    ++created;
    return new int(0);
  }
  void destroy_cache(void* cache, bool thread_exit) noexcept override {
    auto* c = static_cast<int*>(cache);
    if (thread_exit) flushed_on_exit += *c;
    else ++discarded;
    delete c;
  }
};

TEST(ThreadCacheRegistry, OneCachePerThreadReusedAcrossCalls) {
  counting_owner o;
  for (int i = 0; i < 10; ++i) o.use();
  EXPECT_EQ(o.created, 1);
  EXPECT_EQ(o.cache_count(), 1u);
  EXPECT_EQ(*static_cast<int*>(o.local_cache()), 10);
}

TEST(ThreadCacheRegistry, ThreadExitHandsCacheBack) {
  counting_owner o;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&o] {
      for (int i = 0; i < 100; ++i) o.use();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(o.created, 4);
  EXPECT_EQ(o.flushed_on_exit, 400);
  EXPECT_EQ(o.cache_count(), 0u);
}

TEST(ThreadCacheRegistry, DestroyingInstanceWhileThreadsHoldCaches) {
  auto o = std::make_unique<counting_owner>();
  std::barrier sync(3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      o->use();
      sync.arrive_and_wait();  // cache created
      sync.arrive_and_wait();  // instance destroyed by the main thread
      // A new instance may reuse the slot: the stale entry must not match it.
      counting_owner fresh;
      fresh.use();
      EXPECT_EQ(fresh.created, 1);
    });
  }
  sync.arrive_and_wait();
  EXPECT_EQ(o->cache_count(), 2u);
  const int discarded_before = o->discarded;
  o->destroy_all_caches();
  EXPECT_EQ(o->discarded - discarded_before, 2);
  o.reset();
  sync.arrive_and_wait();
  for (auto& t : threads) t.join();
}

TEST(ThreadCacheRegistry, ManyInstancesOnOneThreadStayIndependent) {
  std::vector<std::unique_ptr<counting_owner>> owners;
  for (int i = 0; i < 50; ++i) owners.push_back(std::make_unique<counting_owner>());
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < owners.size(); ++i) {
      for (std::size_t k = 0; k <= i % 5; ++k) owners[i]->use();
    }
  }
  for (std::size_t i = 0; i < owners.size(); ++i) {
    EXPECT_EQ(owners[i]->created, 1);
    EXPECT_EQ(*static_cast<int*>(owners[i]->local_cache()), int(3 * (i % 5 + 1)));
  }
}

TEST(ThreadCacheRegistry, InstancesBeyondTheSlotLimitWorkWithoutCaches) {
  std::vector<std::unique_ptr<counting_owner>> owners;
  for (std::size_t i = 0; i < thread_cache_registry::kMaxSlots + 10; ++i) {
    owners.push_back(std::make_unique<counting_owner>());
  }
  for (auto& o : owners) o->use();
  int cached = 0, uncached = 0;
  for (auto& o : owners) {
    cached += o->created;
    uncached += o->uncached;
  }
  EXPECT_EQ(cached + uncached, int(owners.size()));
  EXPECT_GE(uncached, 11);  // slot 0 is reserved, so at most kMaxSlots - 1 instances have caches
}

}  // namespace
}  // namespace allocbench::detail
