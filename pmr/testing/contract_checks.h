// The contract every resource of ours keeps (README "The resources" and "Checked mode"), as checks
// that each resource's tests run on their own instances, so that the resources are held to the same
// words: bad requests throw and change nothing, is_equal is identity, the peak is exact on one
// thread, and in checked mode each bad free is reported once, says what it was and changes nothing.
//
// Resource: any of ours (a std::pmr::memory_resource with stats()). The checks leave a resource with
// no more live blocks than they found; those about bad frees install their own handler.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory_resource>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "allocator/checked_registry.h"
#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/stats_expectations.h"
#include "pmr/testing/test_upstream.h"

namespace allocbench::testing {

// ---- Requests --------------------------------------------------------------------------------------

// Each size at each alignment throws Exception and changes nothing, without asking `upstream` for
// memory.
template <class Exception, class Resource, class Upstream>
void expect_requests_rejected(Resource& r, const Upstream& upstream, std::initializer_list<std::size_t> sizes,
                              std::initializer_list<std::size_t> alignments) {
  const resource_stats before = r.stats();
  const std::size_t calls = upstream.allocate_calls();
  for (std::size_t bytes : sizes) {
    for (std::size_t alignment : alignments) {
      EXPECT_THROW((void)r.allocate(bytes, alignment), Exception) << bytes << " @" << alignment;
    }
  }
  expect_same_counts(before, r.stats());
  EXPECT_EQ(upstream.allocate_calls(), calls);  // nothing was taken for a request that cannot be served
}

// Alignments that are not powers of two: std::invalid_argument. Give sizes of every path (small,
// large, direct): the check must come before the routing by size.
template <class Resource, class Upstream>
void expect_bad_alignments_rejected(Resource& r, const Upstream& upstream, std::initializer_list<std::size_t> sizes,
                                    std::initializer_list<std::size_t> alignments) {
  expect_requests_rejected<std::invalid_argument>(r, upstream, sizes, alignments);
}

// Sizes no path can serve (near SIZE_MAX): std::bad_alloc.
template <class Resource, class Upstream>
void expect_impossible_sizes_rejected(Resource& r, const Upstream& upstream, std::initializer_list<std::size_t> sizes,
                                      std::initializer_list<std::size_t> alignments) {
  expect_requests_rejected<std::bad_alloc>(r, upstream, sizes, alignments);
}

// Two instances with the same options are still different pools: a block of one cannot go to the
// other. `upstream` is a resource of another type.
template <class Resource>
void expect_is_equal_is_identity(Resource& a, Resource& b, std::pmr::memory_resource& upstream) {
  EXPECT_TRUE(a.is_equal(a));
  EXPECT_FALSE(a.is_equal(b));
  EXPECT_FALSE(a.is_equal(upstream));
  EXPECT_TRUE(a == a);
  EXPECT_TRUE(a != b);
}

// ---- Statistics ------------------------------------------------------------------------------------

// The counters publish live bytes in steps of 64 KiB (allocator/stats_counters.h); with one thread the
// peak must still be exact, above and below those steps. Uses blocks of 4096 bytes aligned to 64,
// which r must serve (55 of them at once).
template <class Resource>
void expect_exact_peak_on_one_thread(Resource& r) {
  constexpr std::size_t kBlock = 4096;
  std::vector<void*> blocks;
  for (int i = 0; i < 50; ++i) blocks.push_back(r.allocate(kBlock, 64));
  EXPECT_EQ(r.stats().peak_live_bytes, 50 * kBlock);
  for (int i = 0; i < 30; ++i) {
    r.deallocate(blocks.back(), kBlock, 64);
    blocks.pop_back();
  }
  for (int i = 0; i < 10; ++i) blocks.push_back(r.allocate(kBlock, 64));
  resource_stats s = r.stats();
  EXPECT_EQ(s.live_bytes, 30 * kBlock);
  EXPECT_EQ(s.peak_live_bytes, 50 * kBlock);
  for (int i = 0; i < 25; ++i) blocks.push_back(r.allocate(kBlock, 64));
  EXPECT_EQ(r.stats().peak_live_bytes, 55 * kBlock);
  for (void* p : blocks) r.deallocate(p, kBlock, 64);
  s = r.stats();
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.peak_live_bytes, 55 * kBlock);
}

// ---- Release ---------------------------------------------------------------------------------------

// r.release() with blocks still live (`allocations` made in all): every byte goes back to `up`, the
// live figures and bytes held drop to zero (per class too) while the totals survive, and r then serves
// a block of `bytes` from fresh memory (one new upstream block).
template <class Resource>
void expect_release_returns_everything(Resource& r, const test_upstream& up, std::uint64_t allocations,
                                       std::size_t bytes) {
  r.release();
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  const resource_stats s = r.stats();
  EXPECT_EQ(s.bytes_held, 0u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.allocations, allocations);  // totals survive release
  for (const class_stats& c : s.classes) {
    EXPECT_EQ(c.bytes_held, 0u) << c.name;
    EXPECT_EQ(c.live_blocks, 0u) << c.name;
  }
  void* p = r.allocate(bytes, 8);
  EXPECT_EQ(up.outstanding_blocks(), 1u);
  std::memset(p, 1, bytes);
  r.deallocate(p, bytes, 8);
}

// ---- Checked mode: bad frees -----------------------------------------------------------------------

// After a block was freed once and then once more (the second free refused): had the second reached
// a free list, the block would now be handed out twice.
template <class Resource>
void expect_no_block_handed_out_twice(Resource& r, std::size_t bytes, std::size_t alignment) {
  void* a = r.allocate(bytes, alignment);
  void* b = r.allocate(bytes, alignment);
  EXPECT_NE(a, b);
  r.deallocate(a, bytes, alignment);
  r.deallocate(b, bytes, alignment);
}

// A block freed twice: one double_free report naming the block, its size, its alignment and
// `resource_name`; no count changes; and the block is not handed out twice afterwards.
template <class Resource>
void expect_double_free_reported(Resource& r, std::size_t bytes, std::size_t alignment,
                                 const std::string& resource_name) {
  const invalid_free_recorder recorder;
  void* p = r.allocate(bytes, alignment);
  r.deallocate(p, bytes, alignment);
  const resource_stats before = r.stats();
  r.deallocate(p, bytes, alignment);
  ASSERT_EQ(recorder.reports().size(), 1u);
  const invalid_free_report& report = recorder.reports()[0];
  EXPECT_EQ(report.kind, invalid_free_kind::double_free);
  EXPECT_EQ(report.pointer, p);
  EXPECT_EQ(report.bytes, bytes);
  EXPECT_EQ(report.alignment, alignment);
  EXPECT_EQ(report.resource, resource_name);
  expect_same_counts(before, r.stats());
  expect_no_block_handed_out_twice(r, bytes, alignment);
  EXPECT_EQ(recorder.reports().size(), 1u);
}

// Pointers that are no block of r's: a buffer of the test's own, and a live block of `other` (another
// instance, configured alike): a foreign_pointer report each, no count changes, and r's own live
// block still frees cleanly.
template <class Resource>
void expect_foreign_frees_reported(Resource& r, Resource& other, std::size_t bytes, std::size_t alignment) {
  const invalid_free_recorder recorder;
  void* live = r.allocate(bytes, alignment);
  alignas(64) static std::byte elsewhere[4096];
  ASSERT_LE(bytes, sizeof elsewhere);
  const resource_stats before = r.stats();
  r.deallocate(elsewhere, bytes, alignment);
  ASSERT_EQ(recorder.reports().size(), 1u);
  EXPECT_EQ(recorder.reports()[0].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(recorder.reports()[0].pointer, static_cast<void*>(elsewhere));
  expect_same_counts(before, r.stats());
  void* theirs = other.allocate(bytes, alignment);
  r.deallocate(theirs, bytes, alignment);
  ASSERT_EQ(recorder.reports().size(), 2u);
  EXPECT_EQ(recorder.reports()[1].kind, invalid_free_kind::foreign_pointer);
  EXPECT_EQ(recorder.reports()[1].pointer, theirs);
  expect_same_counts(before, r.stats());
  other.deallocate(theirs, bytes, alignment);
  r.deallocate(live, bytes, alignment);
  EXPECT_EQ(recorder.reports().size(), 2u);
}

// A double free whose handler throws (invalid_free.h allows it): the exception comes out of deallocate
// and nothing has changed, so the resource must not have acted on the free before calling it.
template <class Resource>
void expect_throwing_handler_changes_nothing(Resource& r, std::size_t bytes, std::size_t alignment) {
  const throwing_invalid_free_handler handler;
  void* p = r.allocate(bytes, alignment);
  r.deallocate(p, bytes, alignment);
  const resource_stats before = r.stats();
  EXPECT_THROW(r.deallocate(p, bytes, alignment), std::runtime_error);
  expect_same_counts(before, r.stats());
  expect_no_block_handed_out_twice(r, bytes, alignment);
}

// A live block freed with each (size, alignment) of `wrong`: a size_mismatch report each, no count
// changes, the block stays live; the right free still works.
template <class Resource>
void expect_wrong_size_frees_reported(Resource& r, std::size_t bytes, std::size_t alignment,
                                      std::initializer_list<std::pair<std::size_t, std::size_t>> wrong) {
  const invalid_free_recorder recorder;
  void* p = r.allocate(bytes, alignment);
  const resource_stats before = r.stats();
  for (const auto& [wrong_bytes, wrong_alignment] : wrong) r.deallocate(p, wrong_bytes, wrong_alignment);
  ASSERT_EQ(recorder.reports().size(), wrong.size());
  for (const invalid_free_report& report : recorder.reports()) {
    EXPECT_EQ(report.kind, invalid_free_kind::size_mismatch);
    EXPECT_EQ(report.pointer, p);
  }
  expect_same_counts(before, r.stats());
  r.deallocate(p, bytes, alignment);
  EXPECT_EQ(recorder.reports().size(), wrong.size());
  EXPECT_EQ(r.stats().live_blocks, before.live_blocks - 1);
}

// ---- Checked mode: every fault class, caught by a throwing handler --------------------------------
// Each check below fails when the detection it names is taken out of allocator/checked_registry.cc.
// `bytes` must leave room for a canary in r's blocks (a resource without room of its own: a size
// below its usable size).

// The report the throwing handler saw names the fault, the block, its size and the resource.
inline void expect_caught(invalid_free_kind kind, const void* p, std::size_t bytes, const std::string& resource) {
  const invalid_free_report& r = throwing_invalid_free_handler::last();
  EXPECT_EQ(r.kind, kind) << to_string(r.kind);
  EXPECT_EQ(r.pointer, p);
  EXPECT_EQ(r.bytes, bytes);
  EXPECT_EQ(r.resource, resource);
}

// A second free after the program allocated again: the quarantine keeps the first block from being
// handed out again, so the second free cannot free the new owner's block.
template <class Resource>
void expect_double_free_after_reuse_caught(Resource& r, std::size_t bytes, std::size_t alignment,
                                           const std::string& resource) {
  const throwing_invalid_free_handler handler;
  void* a = r.allocate(bytes, alignment);
  r.deallocate(a, bytes, alignment);
  void* b = r.allocate(bytes, alignment);
  EXPECT_NE(a, b) << "a freed block was handed out again at once";
  const resource_stats before = r.stats();
  EXPECT_THROW(r.deallocate(a, bytes, alignment), std::runtime_error);
  expect_caught(invalid_free_kind::double_free, a, bytes, resource);
  expect_same_counts(before, r.stats());
  EXPECT_NO_THROW(r.deallocate(b, bytes, alignment));  // the new owner's block is intact and frees
}

template <class Resource>
void expect_foreign_pointer_caught(Resource& r, std::size_t bytes, std::size_t alignment, const std::string& resource) {
  const throwing_invalid_free_handler handler;
  alignas(64) static std::byte elsewhere[64];  // never read: the registry does not know it
  const resource_stats before = r.stats();
  EXPECT_THROW(r.deallocate(elsewhere, bytes, alignment), std::runtime_error);
  expect_caught(invalid_free_kind::foreign_pointer, elsewhere, bytes, resource);
  expect_same_counts(before, r.stats());
}

template <class Resource>
void expect_size_mismatch_caught(Resource& r, std::size_t bytes, std::size_t alignment, const std::string& resource) {
  const throwing_invalid_free_handler handler;
  void* p = r.allocate(bytes, alignment);
  const resource_stats before = r.stats();
  EXPECT_THROW(r.deallocate(p, bytes - 1, alignment), std::runtime_error);
  expect_caught(invalid_free_kind::size_mismatch, p, bytes - 1, resource);
  EXPECT_THROW(r.deallocate(p, bytes, alignment * 2), std::runtime_error);
  expect_caught(invalid_free_kind::size_mismatch, p, bytes, resource);
  expect_same_counts(before, r.stats());
  EXPECT_NO_THROW(r.deallocate(p, bytes, alignment));
}

// One byte written past the requested end. Writing every requested byte is fine; the overwritten
// block stays live after the throw, and frees cleanly once the byte is put back.
template <class Resource>
void expect_overflow_caught(Resource& r, std::size_t bytes, std::size_t alignment, const std::string& resource) {
  const throwing_invalid_free_handler handler;
  auto* fine = static_cast<unsigned char*>(r.allocate(bytes, alignment));
  std::memset(fine, 0x5a, bytes);
  EXPECT_NO_THROW(r.deallocate(fine, bytes, alignment));
  auto* p = static_cast<unsigned char*>(r.allocate(bytes, alignment));
  std::memset(p, 0x5a, bytes);
  const unsigned char saved = p[bytes];
  p[bytes] = static_cast<unsigned char>(saved ^ 0xff);
  const resource_stats before = r.stats();
  EXPECT_THROW(r.deallocate(p, bytes, alignment), std::runtime_error);
  expect_caught(invalid_free_kind::overflow, p, bytes, resource);
  expect_same_counts(before, r.stats());
  p[bytes] = saved;
  EXPECT_NO_THROW(r.deallocate(p, bytes, alignment));
  EXPECT_EQ(throwing_invalid_free_handler::count(), 1);
}

// A write into a freed block, found when the block leaves quarantine (flush_quarantine here; the
// resources' own tests also let it leave by reuse). The block is back in the resource by the report.
template <class Resource>
void expect_write_after_free_caught(Resource& r, std::size_t bytes, std::size_t alignment, const std::string& resource) {
  const throwing_invalid_free_handler handler;
  r.flush_quarantine();
  auto* p = static_cast<unsigned char*>(r.allocate(bytes, alignment));
  r.deallocate(p, bytes, alignment);
  // Through a dangling pointer, inside the checked prefix (allocator/checked_block.h): scalable's
  // is its checked_fill_bytes, the registry's resources' kFillLimit.
  std::size_t fill = detail::kFillLimit;
  if constexpr (requires { r.checked_fill_bytes(); }) fill = r.checked_fill_bytes();
  ASSERT_GT(fill, 0u) << "no fill to overwrite";
  p[std::min(bytes / 2, fill - 1)] = 0;
  const resource_stats before = r.stats();
  EXPECT_THROW(r.flush_quarantine(), std::runtime_error);
  expect_caught(invalid_free_kind::write_after_free, p, bytes, resource);
  // The free was counted when it was made (memory held may drop: the block went back).
  const resource_stats after = r.stats();
  EXPECT_EQ(after.allocations, before.allocations);
  EXPECT_EQ(after.deallocations, before.deallocations);
  EXPECT_EQ(after.live_blocks, before.live_blocks);
  EXPECT_EQ(after.live_requested_bytes, before.live_requested_bytes);
  EXPECT_NO_THROW(r.flush_quarantine());  // nothing is left waiting
  void* q = r.allocate(bytes, alignment);
  r.deallocate(q, bytes, alignment);
}

// Every fault class, caught on r.
template <class Resource>
void expect_every_fault_class_caught(Resource& r, std::size_t bytes, std::size_t alignment, const std::string& resource) {
  {
    SCOPED_TRACE("foreign pointer");
    expect_foreign_pointer_caught(r, bytes, alignment, resource);
  }
  {
    SCOPED_TRACE("double free after reuse");
    expect_double_free_after_reuse_caught(r, bytes, alignment, resource);
  }
  {
    SCOPED_TRACE("size or alignment mismatch");
    expect_size_mismatch_caught(r, bytes, alignment, resource);
  }
  {
    SCOPED_TRACE("overflow");
    expect_overflow_caught(r, bytes, alignment, resource);
  }
  {
    SCOPED_TRACE("write after free");
    expect_write_after_free_caught(r, bytes, alignment, resource);
  }
  r.flush_quarantine();
  EXPECT_EQ(r.stats().live_blocks, 0u);
}

// ---- Checked mode: its own memory ------------------------------------------------------------------

// Makes checked registries built while it lives take their tables from `meta`.
class checked_metadata_scope {
 public:
  explicit checked_metadata_scope(std::pmr::memory_resource* meta)
      : previous_(detail::set_checked_metadata_resource(meta)) {}
  ~checked_metadata_scope() { detail::set_checked_metadata_resource(previous_); }
  checked_metadata_scope(const checked_metadata_scope&) = delete;
  checked_metadata_scope& operator=(const checked_metadata_scope&) = delete;

 private:
  std::pmr::memory_resource* previous_;
};

// make(upstream) builds a checked resource. Its registry's tables come from a test upstream that then
// fails every call: allocations go on until the registry must grow; that allocation throws bad_alloc
// and changes no statistic (peak included), and every deallocation meanwhile neither throws nor
// loses its block. Once the tables can grow again, the resource serves again.
template <class Make>
void expect_registry_out_of_memory_changes_nothing(Make make, std::size_t bytes, std::size_t alignment) {
  test_upstream meta;  // outlives the resource: its destructor checks the registry gave its tables back
  const checked_metadata_scope scope(&meta);
  test_upstream up;
  auto r = make(up);
  meta.fail_always(true);
  std::vector<void*> live;
  bool threw = false;
  for (int i = 0; i < 20000 && !threw; ++i) {
    const resource_stats before = r->stats();
    try {
      live.push_back(r->allocate(bytes, alignment));
    } catch (const std::bad_alloc&) {
      threw = true;
      expect_same_counts(before, r->stats());
    }
    // Every third block freed at once: deallocate must not need the failing tables.
    if (i % 3 == 2 && !live.empty()) {
      EXPECT_NO_THROW(r->deallocate(live.back(), bytes, alignment));
      live.pop_back();
    }
  }
  EXPECT_TRUE(threw) << "the registry never needed to grow";
  EXPECT_EQ(r->stats().live_blocks, live.size());
  meta.fail_always(false);
  live.push_back(r->allocate(bytes, alignment));
  for (void* p : live) EXPECT_NO_THROW(r->deallocate(p, bytes, alignment));
  r->flush_quarantine();
  EXPECT_EQ(r->stats().live_blocks, 0u);
}

}  // namespace allocbench::testing
