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
#include <initializer_list>
#include <limits>
#include <memory_resource>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pmr/testing/invalid_free_recorder.h"
#include "pmr/testing/stats_expectations.h"

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

}  // namespace allocbench::testing
