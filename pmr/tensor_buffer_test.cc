#include "pmr/testing/default_resource_guard.h"
#include "pmr/tensor_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory_resource>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "pmr/testing/test_upstream.h"
#include "pmr/testing/throwing_element.h"

namespace allocbench {
namespace {

using testing::test_upstream;

// Forwards to a test_upstream (which counts, checks and can fail every call) and records the last
// request, so a test can see the size and alignment the buffer asked for.
class recording_resource : public std::pmr::memory_resource {
 public:
  std::size_t last_bytes = 0;
  std::size_t last_alignment = 0;
  test_upstream upstream;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    void* p = upstream.allocate(bytes, alignment);
    last_bytes = bytes;
    last_alignment = alignment;
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    upstream.deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};


using testing::throwing;
using ThrowingElements = testing::ThrowingElements;

tensor_buffer<float> iota_buffer(const tensor_shape& shape, std::pmr::memory_resource* r) {
  tensor_buffer<float> t(shape, r);
  std::iota(t.begin(), t.end(), 1.0f);
  return t;
}

bool is_aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

// --- allocator-aware container requirements, statically -----------------------------------------

static_assert(std::uses_allocator_v<tensor_buffer<float>, std::pmr::polymorphic_allocator<int>>);
static_assert(std::is_nothrow_move_constructible_v<tensor_buffer<float>>);
static_assert(std::is_same_v<tensor_buffer<float>::allocator_type, std::pmr::polymorphic_allocator<float>>);
static_assert(std::contiguous_iterator<tensor_buffer<float>::iterator>);

// --- shape, construction, access ------------------------------------------------------------------

TEST(TensorBuffer, DefaultIsEmptyFlatZeroAndAllocatesNothing) {
  test_upstream r;
  tensor_buffer<float> t(&r);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.rank(), 1u);
  EXPECT_EQ(t.shape(), tensor_shape{0});
  EXPECT_EQ(t.data(), nullptr);
  EXPECT_EQ(t.get_allocator().resource(), &r);
  EXPECT_EQ(r.allocate_calls(), 0u);
}

TEST(TensorBuffer, ShapeConstructorValueInitialisesAndIndexesRowMajor) {
  test_upstream r;
  tensor_buffer<int> t({2, 3, 4}, &r);
  EXPECT_EQ(t.rank(), 3u);
  EXPECT_EQ(t.size(), 24u);
  EXPECT_EQ(t.shape()[1], 3u);
  for (int v : t) EXPECT_EQ(v, 0);
  EXPECT_EQ(r.allocate_calls(), 1u);
  EXPECT_EQ(r.outstanding_bytes(), 24 * sizeof(int));
  t.at(23) = 7;
  EXPECT_EQ(t[23], 7);
  EXPECT_EQ(t.values().back(), 7);
  EXPECT_THROW(t.at(24), std::out_of_range);
}

TEST(TensorBuffer, FillConstructorAndScalarShape) {
  test_upstream r;
  tensor_buffer<double> t({3}, 2.5, &r);
  for (double v : t) EXPECT_EQ(v, 2.5);
  tensor_buffer<double> scalar(tensor_shape{}, &r);  // rank 0: one element, as in NumPy
  EXPECT_EQ(scalar.rank(), 0u);
  EXPECT_EQ(scalar.size(), 1u);
}

TEST(TensorBuffer, ShapeRejectsTooManyDimensionsAndOverflow) {
  EXPECT_THROW((tensor_shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), std::invalid_argument);
  const std::size_t huge = std::numeric_limits<std::size_t>::max();
  EXPECT_THROW((tensor_shape{huge, 2}), std::bad_alloc);
  EXPECT_EQ((tensor_shape{huge, 0}).element_count(), 0u);
}

TEST(TensorBuffer, ImpossibleByteSizeThrowsBadAllocWithoutCallingTheResource) {
  test_upstream r;
  const std::size_t count = std::numeric_limits<std::size_t>::max() / 4;  // * sizeof(double) overflows
  EXPECT_THROW(tensor_buffer<double>({count}, &r), std::bad_alloc);
  EXPECT_EQ(r.allocate_calls(), 0u);
  tensor_buffer<double> t({4}, &r);
  EXPECT_THROW(t.resize(count), std::bad_alloc);
  EXPECT_EQ(t.size(), 4u);
}

// --- alignment ------------------------------------------------------------------------------------

TEST(TensorBuffer, DefaultAlignmentIs64Bytes) {
  recording_resource r;
  tensor_buffer<float> t({10}, &r);
  EXPECT_EQ(t.alignment(), 64u);
  EXPECT_EQ(r.last_alignment, 64u);
  EXPECT_EQ(r.last_bytes, 10 * sizeof(float));
  EXPECT_TRUE(is_aligned(t.data(), 64));
}

TEST(TensorBuffer, RequestedAlignmentIsHonoured) {
  recording_resource r;
  for (std::size_t a : {128u, 4096u}) {
    tensor_buffer<float> t({3, 5}, tensor_alignment{a}, &r);
    EXPECT_EQ(t.alignment(), a);
    EXPECT_EQ(r.last_alignment, a);
    EXPECT_TRUE(is_aligned(t.data(), a));
    // Copies, resizes and moves across resources keep it.
    tensor_buffer<float> copy(t, &r);
    EXPECT_EQ(copy.alignment(), a);
    EXPECT_EQ(r.last_alignment, a);
    EXPECT_TRUE(is_aligned(copy.data(), a));
    copy.resize({100});
    EXPECT_EQ(r.last_alignment, a);
    EXPECT_TRUE(is_aligned(copy.data(), a));
  }
}

TEST(TensorBuffer, AlignmentIsAtLeastTheElementsAndMustBeAPowerOfTwo) {
  recording_resource r;
  tensor_buffer<double> t({2}, tensor_alignment{1}, &r);
  EXPECT_EQ(t.alignment(), alignof(double));
  EXPECT_EQ(r.last_alignment, alignof(double));
  EXPECT_THROW(tensor_buffer<float>({2}, tensor_alignment{48}, &r), std::invalid_argument);
  EXPECT_THROW(tensor_buffer<float>({2}, tensor_alignment{0}, &r), std::invalid_argument);
  EXPECT_EQ(r.upstream.allocate_calls(), 1u);
}

// --- reshape and resize ---------------------------------------------------------------------------

TEST(TensorBuffer, ReshapeKeepsDataAndRejectsAnotherCount) {
  test_upstream r;
  auto t = iota_buffer({2, 6}, &r);
  const float* before = t.data();
  t.reshape({3, 2, 2});
  EXPECT_EQ(t.rank(), 3u);
  EXPECT_EQ(t.data(), before);
  EXPECT_EQ(t[11], 12.0f);
  EXPECT_THROW(t.reshape({5}), std::invalid_argument);
  EXPECT_EQ(t.shape(), (tensor_shape{3, 2, 2}));
  EXPECT_EQ(r.allocate_calls(), 1u);
}

TEST(TensorBuffer, ResizeKeepsTheCommonPrefixAndValueInitialisesTheRest) {
  test_upstream r;
  auto t = iota_buffer({2, 3}, &r);
  t.resize({4, 3});
  EXPECT_EQ(t.shape(), (tensor_shape{4, 3}));
  ASSERT_EQ(t.size(), 12u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(t[i], float(i + 1));
  for (std::size_t i = 6; i < 12; ++i) EXPECT_EQ(t[i], 0.0f);
  EXPECT_EQ(r.outstanding_blocks(), 1u);

  // Shrinking keeps the storage; growing back within it allocates nothing and zeroes the new part.
  t[7] = 99.0f;
  const std::size_t calls = r.allocate_calls();
  t.resize(4);
  EXPECT_EQ(t.shape(), tensor_shape{4});
  EXPECT_EQ(t.capacity(), 12u);
  t.resize({2, 4});
  EXPECT_EQ(r.allocate_calls(), calls);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(t[i], float(i + 1));
  for (std::size_t i = 4; i < 8; ++i) EXPECT_EQ(t[i], 0.0f);

  t.shrink_to_fit();
  EXPECT_EQ(t.capacity(), 8u);
  EXPECT_EQ(r.outstanding_bytes(), 8 * sizeof(float));
  EXPECT_EQ(t[3], 4.0f);
  t.resize(0);
  t.shrink_to_fit();
  EXPECT_EQ(r.outstanding_blocks(), 0u);
}

TEST(TensorBuffer, ResizeKeepsNonTrivialElements) {
  test_upstream r;
  tensor_buffer<std::pmr::string> t({2}, &r);
  t[0] = "a string long enough to live on the heap";
  t[1] = "b";
  t.resize(5);
  EXPECT_EQ(t[0], "a string long enough to live on the heap");
  EXPECT_EQ(t[1], "b");
  EXPECT_EQ(t[4], "");
  EXPECT_EQ(t[0].get_allocator().resource(), &r);
}

// --- element resources in nested containers -------------------------------------------------------

TEST(TensorBuffer, PmrVectorHandsItsResourceToEveryElement) {
  test_upstream r, other;
  std::pmr::vector<tensor_buffer<float>> v(&r);
  v.emplace_back(tensor_shape{4});
  v.emplace_back(tensor_shape{2, 2}, 1.5f);
  v.push_back(iota_buffer({3}, &other));  // from another resource: copied/moved into r
  tensor_buffer<float> lvalue = iota_buffer({5}, &other);
  v.push_back(lvalue);
  v.resize(6);  // value-initialised elements
  for (int i = 0; i < 20; ++i) v.emplace_back(tensor_shape{1});  // several reallocations
  for (const auto& t : v) EXPECT_EQ(t.get_allocator().resource(), &r);
  EXPECT_EQ(v[2][2], 3.0f);
  EXPECT_EQ(v[3][4], 5.0f);
  EXPECT_EQ(lvalue.get_allocator().resource(), &other);
  EXPECT_EQ(lvalue.size(), 5u);

  // Allocator-extended copy of the outer vector: every element in the new resource.
  test_upstream r2;
  std::pmr::vector<tensor_buffer<float>> copy(v, &r2);
  for (const auto& t : copy) EXPECT_EQ(t.get_allocator().resource(), &r2);
  EXPECT_EQ(copy[3], v[3]);

  // A plain copy, like every pmr container, uses the default resource, for its elements too.
  test_upstream fallback;
  {
    testing::default_resource_guard guard(&fallback);
    std::pmr::vector<tensor_buffer<float>> plain(v);
    EXPECT_EQ(plain.get_allocator().resource(), &fallback);
    for (const auto& t : plain) EXPECT_EQ(t.get_allocator().resource(), &fallback);
  }
}

TEST(TensorBuffer, TwoLevelsOfNestingAllUseTheOuterResource) {
  test_upstream r;
  std::pmr::vector<std::pmr::vector<tensor_buffer<float>>> batches(&r);
  batches.emplace_back();
  batches.back().emplace_back(tensor_shape{8});
  batches.emplace_back(3);
  batches.push_back(batches.front());
  for (const auto& inner : batches) {
    EXPECT_EQ(inner.get_allocator().resource(), &r);
    for (const auto& t : inner) EXPECT_EQ(t.get_allocator().resource(), &r);
  }
  EXPECT_EQ(batches[2][0].size(), 8u);
}

TEST(TensorBuffer, ElementsThatTakeAnAllocatorGetTheBuffersResource) {
  test_upstream r, r2;
  tensor_buffer<std::pmr::vector<int>> t({3}, std::pmr::vector<int>{1, 2, 3}, &r);
  for (const auto& v : t) {
    EXPECT_EQ(v.get_allocator().resource(), &r);
    EXPECT_EQ(v.size(), 3u);
  }
  t.resize(6);
  for (const auto& v : t) EXPECT_EQ(v.get_allocator().resource(), &r);
  tensor_buffer<std::pmr::vector<int>> copy(t, &r2);
  for (const auto& v : copy) EXPECT_EQ(v.get_allocator().resource(), &r2);
  EXPECT_EQ(copy, t);
  tensor_buffer<tensor_buffer<float>> nested({2}, &r);
  EXPECT_EQ(nested[1].get_allocator().resource(), &r);
}

// --- copy and move --------------------------------------------------------------------------------

TEST(TensorBuffer, AllocatorExtendedCopyUsesTheGivenResource) {
  test_upstream r1, r2;
  auto a = iota_buffer({2, 3}, &r1);
  tensor_buffer<float> b(a, &r2);
  EXPECT_EQ(b.get_allocator().resource(), &r2);
  EXPECT_EQ(b, a);
  EXPECT_NE(b.data(), a.data());
  EXPECT_EQ(r2.allocate_calls(), 1u);
  EXPECT_EQ(r1.allocate_calls(), 1u);
}

TEST(TensorBuffer, PlainCopyUsesTheDefaultResource) {
  test_upstream r, fallback;
  testing::default_resource_guard guard(&fallback);
  auto a = iota_buffer({4}, &r);
  tensor_buffer<float> b(a);
  EXPECT_EQ(b.get_allocator().resource(), &fallback);
  EXPECT_EQ(b, a);
}

TEST(TensorBuffer, MoveStealsWithoutAllocating) {
  test_upstream r;
  auto a = iota_buffer({2, 3}, &r);
  const float* storage = a.data();
  tensor_buffer<float> b(std::move(a));
  EXPECT_EQ(b.data(), storage);
  EXPECT_EQ(b.get_allocator().resource(), &r);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified

  tensor_buffer<float> c(std::move(b), &r);  // allocator-extended, equal resource: steals
  EXPECT_EQ(c.data(), storage);

  tensor_buffer<float> d({7}, &r);
  d = std::move(c);  // same resource: steals, frees d's old storage
  EXPECT_EQ(d.data(), storage);
  EXPECT_EQ(d.shape(), (tensor_shape{2, 3}));
  EXPECT_EQ(r.allocate_calls(), 2u);
  EXPECT_EQ(r.outstanding_blocks(), 1u);
}

TEST(TensorBuffer, AllocatorExtendedMoveToAnotherResourceCopies) {
  test_upstream r1, r2;
  auto a = iota_buffer({5}, &r1);
  const float* storage = a.data();
  tensor_buffer<float> b(std::move(a), &r2);
  EXPECT_EQ(b.get_allocator().resource(), &r2);
  EXPECT_NE(b.data(), storage);
  EXPECT_EQ(b[4], 5.0f);
  EXPECT_EQ(a.data(), storage);  // the source keeps its storage and values
  EXPECT_EQ(a[4], 5.0f);
}

TEST(TensorBuffer, MoveAssignAcrossResourcesCopiesAndKeepsBothResources) {
  test_upstream r1, r2;
  tensor_buffer<float> dst({9}, &r1);
  auto src = iota_buffer({2, 2}, &r2);
  const float* src_storage = src.data();
  dst = std::move(src);
  EXPECT_EQ(dst.get_allocator().resource(), &r1);
  EXPECT_EQ(dst.shape(), (tensor_shape{2, 2}));
  EXPECT_EQ(dst[3], 4.0f);
  EXPECT_NE(dst.data(), src_storage);
  // The source is intact and valid.
  EXPECT_EQ(src.get_allocator().resource(), &r2);
  EXPECT_EQ(src.data(), src_storage);
  EXPECT_EQ(src.shape(), (tensor_shape{2, 2}));
  EXPECT_EQ(src[3], 4.0f);
  src.resize(10);
  EXPECT_EQ(src[3], 4.0f);
  // Each resource holds exactly its own buffer.
  EXPECT_EQ(r1.outstanding_bytes(), 4 * sizeof(float));
  EXPECT_EQ(r2.outstanding_bytes(), 10 * sizeof(float));
}

TEST(TensorBuffer, CopyAssignKeepsTheDestinationsResourceAndTakesTheSourcesAlignment) {
  test_upstream r1, r2;
  tensor_buffer<float> dst({16}, &r1);
  auto src = iota_buffer({3}, &r2);
  dst = src;  // fits in dst's storage with the same alignment: reused
  EXPECT_EQ(dst, src);
  EXPECT_EQ(dst.get_allocator().resource(), &r1);
  EXPECT_EQ(r1.allocate_calls(), 1u);
  tensor_buffer<float> big({2, 2}, tensor_alignment{256}, &r2);
  dst = big;
  EXPECT_EQ(dst.alignment(), 256u);
  EXPECT_TRUE(is_aligned(dst.data(), 256));
  EXPECT_EQ(dst.get_allocator().resource(), &r1);
  dst = dst;  // self-assignment is harmless
  EXPECT_EQ(dst, big);
}

TEST(TensorBuffer, SwapExchangesContentsBetweenEqualAllocators) {
  test_upstream r;
  auto a = iota_buffer({2}, &r);
  tensor_buffer<float> b({3, 3}, &r);
  const float* a_storage = a.data();
  swap(a, b);
  EXPECT_EQ(b.data(), a_storage);
  EXPECT_EQ(a.shape(), (tensor_shape{3, 3}));
}

TEST(TensorBufferDeathTest, SwapWithUnequalAllocatorsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto swap_unequal = [] {
    std::pmr::monotonic_buffer_resource r1, r2;
    tensor_buffer<float> a({1}, &r1);
    tensor_buffer<float> b({1}, &r2);
    a.swap(b);
  };
  EXPECT_DEATH(swap_unequal(), "unequal allocators");
}

// --- exception safety -----------------------------------------------------------------------------

TEST_F(ThrowingElements, CopyThatThrowsMidwayLeaksNothing) {
  test_upstream r;
  {
    tensor_buffer<throwing> a({6}, &r);
    throwing::arm(4);
    EXPECT_THROW(tensor_buffer<throwing>(a, &r), std::runtime_error);
    EXPECT_EQ(throwing::live, 6);
    EXPECT_EQ(r.outstanding_blocks(), 1u);
  }
  EXPECT_EQ(r.outstanding_blocks(), 0u);
}

TEST_F(ThrowingElements, ConstructionThatThrowsLeaksNothing) {
  test_upstream r;
  throwing::arm(3);
  EXPECT_THROW(tensor_buffer<throwing>({5}, &r), std::runtime_error);
  EXPECT_EQ(r.outstanding_blocks(), 0u);
  throwing::arm(2);
  EXPECT_THROW(tensor_buffer<throwing>({5}, throwing(1), &r), std::runtime_error);
  EXPECT_EQ(r.outstanding_blocks(), 0u);
}

TEST_F(ThrowingElements, ResizeIsStrongWhenAnElementThrows) {
  test_upstream r;
  tensor_buffer<throwing> t({2, 2}, &r);
  for (int i = 0; i < 4; ++i) t[i].value = i + 10;
  const throwing* storage = t.data();
  for (int n = 1; n <= 6; ++n) {  // new element (1-2), then relocation copies (3-6)
    throwing::arm(n);
    EXPECT_THROW(t.resize({3, 2}), std::runtime_error) << "throw at construction " << n;
    EXPECT_EQ(t.shape(), (tensor_shape{2, 2}));
    EXPECT_EQ(t.data(), storage);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(t[i].value, i + 10);
    EXPECT_EQ(throwing::live, 4);
    EXPECT_EQ(r.outstanding_blocks(), 1u);
  }
  // Within capacity: only the new elements are built.
  t.resize(2);
  throwing::arm(2);
  EXPECT_THROW(t.resize(4), std::runtime_error);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(throwing::live, 2);
  throwing::arm(0);
  t.resize({3, 2});
  EXPECT_EQ(t[1].value, 11);
  EXPECT_EQ(t[5].value, 0);
}

TEST_F(ThrowingElements, AssignmentsAreStrongWhenAnElementThrows) {
  test_upstream r1, r2;
  tensor_buffer<throwing> dst({2}, throwing(1), &r1);
  tensor_buffer<throwing> src({3}, throwing(2), &r2);
  throwing::arm(2);
  EXPECT_THROW(dst = src, std::runtime_error);
  EXPECT_EQ(dst.size(), 2u);
  EXPECT_EQ(dst[1].value, 1);
  throwing::arm(3);
  EXPECT_THROW(dst = std::move(src), std::runtime_error);  // across resources: element copies
  EXPECT_EQ(dst.size(), 2u);
  EXPECT_EQ(src.size(), 3u);
  EXPECT_EQ(src[2].value, 2);
  EXPECT_EQ(throwing::live, 5);
  throwing::arm(0);
  dst = std::move(src);
  EXPECT_EQ(dst.size(), 3u);
  EXPECT_EQ(dst.get_allocator().resource(), &r1);
}

TEST(TensorBuffer, ThrowingUpstreamLeavesTheBufferUnchangedAndUsable) {
  test_upstream r;
  auto t = iota_buffer({4}, &r);
  r.fail_at(1);
  EXPECT_THROW(t.resize({8}), std::bad_alloc);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t[3], 4.0f);
  r.fail_at(1);
  EXPECT_THROW(tensor_buffer<float>(t, &r), std::bad_alloc);
  // Each failure was one-shot: the resource serves the next request, and the buffer still works.
  tensor_buffer<float> other({1}, &r);
  EXPECT_EQ(other.size(), 1u);
  t.resize({8});
  EXPECT_EQ(t[3], 4.0f);
}

TEST(TensorBuffer, ThrowingUpstreamMidwayThroughNestedElementsLeaksNothing) {
  test_upstream r;
  {
    tensor_buffer<std::pmr::vector<int>> t({4}, std::pmr::vector<int>(100, 7), &r);
    const std::size_t before = r.outstanding_blocks();
    for (std::size_t n = 1; n <= 5; ++n) {
      r.fail_at(n);  // the buffer's storage (1) or the n-th element's vector
      EXPECT_THROW(tensor_buffer<std::pmr::vector<int>>(t, &r), std::bad_alloc);
      r.fail_at(0);
      EXPECT_EQ(r.outstanding_blocks(), before) << "leak after a failure at call " << n;
    }
    tensor_buffer<std::pmr::vector<int>> ok(t, &r);
    EXPECT_EQ(ok, t);
  }
  EXPECT_EQ(r.outstanding_blocks(), 0u);
}

}  // namespace
}  // namespace allocbench
