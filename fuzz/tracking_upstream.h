// allocbench::fuzz::tracking_upstream: the upstream under a fuzzed resource. It hands out malloc'd
// blocks, remembers each one, and checks what the resource asks of it:
// - every deallocate names a block it handed out, with the same size and alignment;
// - no request is one whose padding wraps: a size within 1 MiB of SIZE_MAX reaching an upstream means
//   the resource forwarded what it had to reject itself (issue 15, defect 1: libstdc++'s aligned
//   operator new and glibc add alignment and header bytes, wrap, and return a tiny block). Huge
//   sizes below that (SIZE_MAX / 2, say) are fair to forward: they get bad_alloc here;
// - outstanding() tells what is still held, so release() and the destructor can be checked to give
//   everything back.
// Requests above its limit (default 1 GiB) throw bad_alloc, as a bounded machine would, so that
// inputs cannot exhaust the fuzzing machine's memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory_resource>
#include <mutex>
#include <new>

#include "fuzz/fuzz_check.h"
#include "fuzz/known_findings.h"

namespace allocbench::fuzz {

class tracking_upstream final : public std::pmr::memory_resource {
 public:
  // Within this of SIZE_MAX, an upstream's own padding and header arithmetic can wrap (alignments
  // up to 4096 twice over, plus headers, with room to spare).
  static constexpr std::size_t kWrapMargin = std::size_t(1) << 20;

  explicit tracking_upstream(std::size_t limit = std::size_t(1) << 30) : limit_(limit) {}

  ~tracking_upstream() override {
    FUZZ_CHECK(blocks_.empty(), "%zu upstream blocks (%zu bytes) never given back", blocks_.size(),
               outstanding_);
  }

  std::size_t outstanding() const {
    std::lock_guard<std::mutex> lock(mu_);
    return outstanding_;
  }

 private:
  struct block {
    std::size_t bytes;
    std::size_t alignment;
  };

  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    FUZZ_CHECK(bytes <= std::size_t(-1) - kWrapMargin || known_finding("upstream_huge"),
               "the resource forwarded size %zu (alignment %zu), whose padding wraps, to its upstream",
               bytes, alignment);
    FUZZ_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0,
               "the resource forwarded alignment %zu to its upstream", alignment);
    if (bytes > limit_) throw std::bad_alloc();
    void* p = nullptr;
    const std::size_t a = alignment < sizeof(void*) ? sizeof(void*) : alignment;
    if (posix_memalign(&p, a, bytes == 0 ? 1 : bytes) != 0) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mu_);
    blocks_[reinterpret_cast<std::uintptr_t>(p)] = {bytes, alignment};
    outstanding_ += bytes;
    return p;
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = blocks_.find(reinterpret_cast<std::uintptr_t>(p));
      FUZZ_CHECK(it != blocks_.end(), "upstream free of %p (%zu bytes) it never handed out", p, bytes);
      FUZZ_CHECK(it->second.bytes == bytes && it->second.alignment == alignment,
                 "upstream free of %p as %zu bytes @%zu; it was allocated as %zu @%zu", p, bytes, alignment,
                 it->second.bytes, it->second.alignment);
      outstanding_ -= bytes;
      blocks_.erase(it);
    }
    std::free(p);
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  const std::size_t limit_;
  mutable std::mutex mu_;
  std::map<std::uintptr_t, block> blocks_;
  std::size_t outstanding_ = 0;
};

}  // namespace allocbench::fuzz
