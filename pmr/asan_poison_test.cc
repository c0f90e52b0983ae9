// Under AddressSanitizer every pool poisons the blocks it holds free (allocator/asan_poison.h): a
// read or write of a freed block, from its link words on, is reported as use-after-poison, as a use
// after free of a heap block is. Skipped in builds without asan, where poisoning is compiled out.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <memory_resource>
#include <string>
#include <vector>

#include "allocator/asan_poison.h"
#include "pmr/best_fit_resource.h"
#include "pmr/fixed_slab_resource.h"
#include "pmr/scalable_resource.h"
#include "pmr/segregated_resource.h"

namespace allocbench {
namespace {

struct pool_case {
  std::string name;
  std::function<std::unique_ptr<std::pmr::memory_resource>()> make;
};

// checked = false: what is under test is the pools' own poisoning, not checked mode's bookkeeping.
std::vector<pool_case> pools() {
  return {
      {"scalable", [] { scalable_options o; o.checked = false; return std::make_unique<scalable_resource>(o); }},
      {"fixed_slab", [] { fixed_slab_options o; o.checked = false; return std::make_unique<fixed_slab_resource>(o); }},
      {"fixed_slab_cached",
       [] {
         fixed_slab_options o;
         o.checked = false;
         o.thread_cache_entries = 16;
         return std::make_unique<fixed_slab_resource>(o);
       }},
      {"segregated", [] { segregated_options o; o.checked = false; return std::make_unique<segregated_resource>(o); }},
      {"best_fit", [] { best_fit_options o; o.checked = false; return std::make_unique<best_fit_resource>(o); }},
  };
}

// Offset 16: past every pool's link words (8 bytes, best_fit's 16), which stay addressable.
constexpr std::size_t kProbe = 16;

TEST(AsanPoisonDeathTest, ReadingAFreedBlockIsReported) {
  if (!detail::kAsanPoisoning) GTEST_SKIP() << "not an AddressSanitizer build";
  for (const pool_case& c : pools()) {
    SCOPED_TRACE(c.name);
    EXPECT_DEATH(
        {
          auto r = c.make();
          auto* p = static_cast<volatile char*>(r->allocate(64, 16));
          p[kProbe] = 1;
          r->deallocate(const_cast<char*>(p), 64, 16);
          volatile char seen = p[kProbe];
          (void)seen;
        },
        "use-after-poison");
  }
}

TEST(AsanPoisonDeathTest, WritingAFreedBlockIsReported) {
  if (!detail::kAsanPoisoning) GTEST_SKIP() << "not an AddressSanitizer build";
  for (const pool_case& c : pools()) {
    SCOPED_TRACE(c.name);
    EXPECT_DEATH(
        {
          auto r = c.make();
          auto* p = static_cast<volatile char*>(r->allocate(64, 16));
          r->deallocate(const_cast<char*>(p), 64, 16);
          p[63] = 1;
        },
        "use-after-poison");
  }
}

// Handed out again, a block is wholly addressable; so is every span given back at the end (the
// destructor runs with poisoned free blocks inside them, and asan must not complain later).
TEST(AsanPoison, ReusedBlocksAreAddressableAgain) {
  for (const pool_case& c : pools()) {
    SCOPED_TRACE(c.name);
    auto r = c.make();
    std::vector<char*> blocks;
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 200; ++i) blocks.push_back(static_cast<char*>(r->allocate(64, 16)));
      for (char* p : blocks) {
        for (std::size_t b = 0; b < 64; ++b) p[b] = char(b);
      }
      for (char* p : blocks) r->deallocate(p, 64, 16);
      blocks.clear();
    }
  }
  // Memory the pools gave back upstream is reused by malloc without reports.
  std::vector<std::unique_ptr<char[]>> heap;
  for (int i = 0; i < 2000; ++i) {
    heap.emplace_back(new char[64]);
    heap.back()[63] = 1;
  }
}

}  // namespace
}  // namespace allocbench
