// An upstream resource for tests: counts and checks every call, and can be told to throw.
//
// - outstanding_blocks()/outstanding_bytes(): what the resource under test still holds;
// - fail_at(n): the n-th allocate call from now (1 = the next) throws std::bad_alloc, once;
// - fail_always(true): every allocate throws until turned off;
// - fail_every(n): from now on the n-th, 2n-th, ... allocate call throws (1: every one; 0: off);
// - a deallocate of something it never gave out, or with another size or alignment, fails the test.
// Thread-safe (one mutex): resources call upstream only on their slow paths.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <map>
#include <memory_resource>
#include <mutex>
#include <new>

namespace allocbench::testing {

class test_upstream : public std::pmr::memory_resource {
 public:
  ~test_upstream() override {
    EXPECT_EQ(blocks_.size(), 0u) << "the resource under test leaked upstream blocks";
    for (auto& [p, b] : blocks_) ::operator delete(p, b.bytes, std::align_val_t(b.alignment));
  }

  void fail_at(std::size_t n) {
    std::lock_guard lock(mu_);
    countdown_ = n;
  }
  void fail_every(std::size_t n) {
    std::lock_guard lock(mu_);
    every_ = n;
    since_ = 0;
  }
  void fail_always(bool on) {
    std::lock_guard lock(mu_);
    fail_always_ = on;
  }

  std::size_t outstanding_blocks() const {
    std::lock_guard lock(mu_);
    return blocks_.size();
  }
  std::size_t outstanding_bytes() const {
    std::lock_guard lock(mu_);
    std::size_t total = 0;
    for (auto& [p, b] : blocks_) total += b.bytes;
    return total;
  }
  std::size_t allocate_calls() const {
    std::lock_guard lock(mu_);
    return allocate_calls_;
  }
  std::size_t deallocate_calls() const {
    std::lock_guard lock(mu_);
    return deallocate_calls_;
  }
  std::size_t failures() const {
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  struct block {
    std::size_t bytes;
    std::size_t alignment;
  };

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    std::lock_guard lock(mu_);
    ++allocate_calls_;
    bool fail = fail_always_ || (countdown_ != 0 && --countdown_ == 0);
    if (every_ != 0 && ++since_ == every_) {
      since_ = 0;
      fail = true;
    }
    if (fail) {
      ++failures_;
      throw std::bad_alloc();
    }
    void* p = ::operator new(bytes, std::align_val_t(alignment));
    blocks_[p] = block{bytes, alignment};
    return p;
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    std::lock_guard lock(mu_);
    ++deallocate_calls_;
    auto it = blocks_.find(p);
    if (it == blocks_.end()) {
      ADD_FAILURE() << "upstream deallocate of a block it never gave out: " << p;
      return;
    }
    EXPECT_EQ(it->second.bytes, bytes) << "upstream deallocate with the wrong size";
    EXPECT_EQ(it->second.alignment, alignment) << "upstream deallocate with the wrong alignment";
    ::operator delete(p, it->second.bytes, std::align_val_t(it->second.alignment));
    blocks_.erase(it);
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  mutable std::mutex mu_;
  std::map<void*, block> blocks_;
  std::size_t countdown_ = 0;
  bool fail_always_ = false;
  std::size_t every_ = 0;  // fail_every's n
  std::size_t since_ = 0;  // allocate calls since its last failure
  std::size_t allocate_calls_ = 0;
  std::size_t deallocate_calls_ = 0;
  std::size_t failures_ = 0;
};

}  // namespace allocbench::testing
