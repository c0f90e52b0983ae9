// allocbench::fuzz::resource_model: what a resource must have done, kept beside the resource a fuzz
// input drives. Every call goes through the model, which checks on the spot:
// - a block is non-null and aligned as asked, and overlaps no live block;
// - the pattern written into a block at allocation is intact when it is freed;
// - a non-power-of-two alignment throws std::invalid_argument, an impossible size std::bad_alloc,
//   and a failed call changes no count;
// - stats() agrees with the model: allocations, deallocations, live blocks and live requested bytes
//   (counted from a base taken at the start and after each release()), live usable bytes cover the
//   requested ones, and the peak covers what is live.
// Blocks handed to another thread (take) count as freed by the model; the statistics are only
// compared while no other thread is running (the caller says so with `quiet`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "pmr/instrumented_resource.h"

namespace allocbench::fuzz {

struct live_block {
  std::byte* p;
  std::size_t bytes;
  std::size_t alignment;
  std::uint8_t tag;
};

// Fills a block with its tag, and checks that it still holds it.
inline void fill(const live_block& b) { std::memset(b.p, b.tag, b.bytes); }

inline void expect_intact(const live_block& b) {
  for (std::size_t i = 0; i < b.bytes; ++i) {
    FUZZ_CHECK(static_cast<std::uint8_t>(b.p[i]) == b.tag,
               "block %p of %zu bytes @%zu overwritten at offset %zu before its free", static_cast<void*>(b.p),
               b.bytes, b.alignment, i);
  }
}

class resource_model {
 public:
  explicit resource_model(instrumented_resource& r) : r_(r), base_(r.stats()) {}

  std::size_t live_count() const noexcept { return live_.size(); }

  // A valid request: either a block that passes every check, or bad_alloc with nothing changed (a
  // size the resource does not serve, or the upstream's limit).
  void allocate(std::size_t bytes, std::size_t alignment, bool quiet) {
    const resource_stats before = quiet ? r_.stats() : resource_stats{};
    std::byte* p = nullptr;
    try {
      p = static_cast<std::byte*>(r_.allocate(bytes, alignment));
    } catch (const std::bad_alloc&) {
      if (quiet) expect_unchanged(before, "a refused allocate");
      return;
    }
    FUZZ_CHECK(p != nullptr, "allocate(%zu, %zu) returned null", bytes, alignment);
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    FUZZ_CHECK(start % alignment == 0, "allocate(%zu, %zu) returned %p, not aligned", bytes, alignment,
               static_cast<void*>(p));
    const std::uintptr_t end = start + (bytes == 0 ? 1 : bytes);
    auto next = extents_.lower_bound(start);
    FUZZ_CHECK(next == extents_.end() || end <= next->first,
               "allocate(%zu, %zu) returned %p, which overlaps a live block at %p", bytes, alignment,
               static_cast<void*>(p), reinterpret_cast<void*>(next->first));
    FUZZ_CHECK(next == extents_.begin() || std::prev(next)->second <= start,
               "allocate(%zu, %zu) returned %p, inside a live block at %p", bytes, alignment, static_cast<void*>(p),
               reinterpret_cast<void*>(std::prev(next)->first));
    extents_[start] = end;
    live_block b{p, bytes, alignment, static_cast<std::uint8_t>(++counter_ * 131 + 7)};
    fill(b);
    live_.push_back(b);
    ++allocations_;
    live_requested_ += bytes;
  }

  // A request that must throw `Expected` and change nothing.
  template <class Expected>
  void allocate_refused(std::size_t bytes, std::size_t alignment, bool quiet, const char* what) {
    const resource_stats before = quiet ? r_.stats() : resource_stats{};
    bool thrown = false;
    try {
      void* p = r_.allocate(bytes, alignment);
      FUZZ_CHECK(false, "allocate(%zu, %zu) (%s) returned %p instead of throwing", bytes, alignment, what, p);
    } catch (const Expected&) {
      thrown = true;
    } catch (const std::exception& e) {
      FUZZ_CHECK(false, "allocate(%zu, %zu) (%s) threw the wrong exception: %s", bytes, alignment, what,
                 e.what());
    }
    FUZZ_CHECK(thrown, "allocate(%zu, %zu) (%s) did not throw", bytes, alignment, what);
    if (quiet) expect_unchanged(before, what);
  }

  void deallocate(std::size_t index) {
    const live_block b = remove(index);
    expect_intact(b);
    r_.deallocate(b.p, b.bytes, b.alignment);
  }

  // Removes up to n blocks for another thread to check and free; the model counts them as freed.
  std::vector<live_block> take(std::size_t n) {
    std::vector<live_block> out;
    while (n-- > 0 && !live_.empty()) out.push_back(remove(live_.size() - 1));
    return out;
  }

  // Allocations and frees another thread made on its own (all freed by it).
  void add_foreign(std::uint64_t pairs) {
    allocations_ += pairs;
    deallocations_ += pairs;
  }

  void free_all() {
    while (!live_.empty()) deallocate(live_.size() - 1);
  }

  void check_stats() const {
    const resource_stats s = r_.stats();
    FUZZ_CHECK(s.allocations - base_.allocations == allocations_, "stats: %llu allocations, model %llu",
               ull(s.allocations - base_.allocations), ull(allocations_));
    FUZZ_CHECK(s.deallocations - base_.deallocations == deallocations_, "stats: %llu deallocations, model %llu",
               ull(s.deallocations - base_.deallocations), ull(deallocations_));
    FUZZ_CHECK(s.live_blocks - base_.live_blocks == live_.size(), "stats: %llu live blocks, model %zu",
               ull(s.live_blocks - base_.live_blocks), live_.size());
    FUZZ_CHECK(s.live_requested_bytes - base_.live_requested_bytes == live_requested_,
               "stats: %llu live requested bytes, model %llu",
               ull(s.live_requested_bytes - base_.live_requested_bytes), ull(live_requested_));
    FUZZ_CHECK(s.live_usable_bytes >= s.live_requested_bytes, "stats: live usable %llu < live requested %llu",
               ull(s.live_usable_bytes), ull(s.live_requested_bytes));
    FUZZ_CHECK(s.peak_live_bytes >= s.live_bytes, "stats: peak %llu below live %llu", ull(s.peak_live_bytes),
               ull(s.live_bytes));
  }

  // release(): every block becomes invalid; counting starts again from what stats() says after it.
  void release() {
    r_.release();
    live_.clear();
    extents_.clear();
    base_ = r_.stats();
    allocations_ = deallocations_ = live_requested_ = 0;
    FUZZ_CHECK(base_.live_blocks == 0 && base_.live_requested_bytes == 0,
               "stats after release: %llu live blocks, %llu live requested bytes", ull(base_.live_blocks),
               ull(base_.live_requested_bytes));
  }

 private:
  static unsigned long long ull(std::uint64_t v) { return v; }

  live_block remove(std::size_t index) {
    const live_block b = live_[index];
    live_[index] = live_.back();
    live_.pop_back();
    extents_.erase(reinterpret_cast<std::uintptr_t>(b.p));
    ++deallocations_;
    live_requested_ -= b.bytes;
    return b;
  }

  void expect_unchanged(const resource_stats& before, const char* what) const {
    const resource_stats after = r_.stats();
    FUZZ_CHECK(after.allocations == before.allocations && after.deallocations == before.deallocations &&
                   after.live_blocks == before.live_blocks &&
                   after.live_requested_bytes == before.live_requested_bytes &&
                   after.live_usable_bytes == before.live_usable_bytes &&
                   after.total_requested_bytes == before.total_requested_bytes,
               "%s changed the statistics (allocations %llu -> %llu, live blocks %llu -> %llu)", what,
               ull(before.allocations), ull(after.allocations), ull(before.live_blocks), ull(after.live_blocks));
  }

  instrumented_resource& r_;
  resource_stats base_;
  std::vector<live_block> live_;
  std::map<std::uintptr_t, std::uintptr_t> extents_;
  std::uint32_t counter_ = 0;
  std::uint64_t allocations_ = 0;
  std::uint64_t deallocations_ = 0;
  std::uint64_t live_requested_ = 0;
};

}  // namespace allocbench::fuzz
