#include "pmr/testing/default_resource_guard.h"
#include "pmr/replay_ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <limits>
#include <memory_resource>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "pmr/tensor_buffer.h"
#include "pmr/testing/test_upstream.h"
#include "pmr/testing/throwing_element.h"

namespace allocbench {
namespace {

using testing::test_upstream;

static_assert(std::random_access_iterator<replay_ring<int>::iterator>);
static_assert(std::random_access_iterator<replay_ring<int>::const_iterator>);
static_assert(std::is_same_v<replay_ring<int>::allocator_type, std::pmr::polymorphic_allocator<int>>);
static_assert(std::uses_allocator_v<replay_ring<int>, std::pmr::polymorphic_allocator<char>>);
static_assert(std::is_nothrow_move_constructible_v<replay_ring<std::pmr::string>>);

// Long enough to live on the heap (no small-string buffer), so that every string allocates from its
// resource and asan sees any use of a destroyed one. Made with the default resource.
std::pmr::string long_text(int i) {
  return std::pmr::string("sample number " + std::to_string(i) + " padded well past the SSO buffer");
}

std::vector<int> contents(const replay_ring<int>& r) { return {r.begin(), r.end()}; }


using testing::throwing;
using ThrowingElements = testing::ThrowingElements;

std::vector<int> values(const replay_ring<throwing>& r) {
  std::vector<int> out;
  for (const throwing& t : r) out.push_back(t.value);
  return out;
}

// --- construction and capacity --------------------------------------------------------------------

TEST(ReplayRing, DefaultConstructedHasNoCapacityAndPushThrowsLengthError) {
  replay_ring<int> r;
  EXPECT_EQ(r.capacity(), 0u);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.full());
  EXPECT_EQ(r.get_allocator().resource(), std::pmr::get_default_resource());
  EXPECT_THROW(r.push(1), std::length_error);
  EXPECT_EQ(r.size(), 0u);
}

TEST(ReplayRing, CapacityZeroAllocatesNothingAndPushThrowsLengthError) {
  test_upstream up;
  replay_ring<int> r(0, &up);
  EXPECT_EQ(up.allocate_calls(), 0u);
  EXPECT_EQ(r.capacity(), 0u);
  EXPECT_THROW(r.push(1), std::length_error);
  replay_ring<std::pmr::string> s(0, &up);
  EXPECT_THROW(s.push(long_text(1)), std::length_error);
  EXPECT_EQ(up.allocate_calls(), 0u);
}

TEST(ReplayRing, AllocatesCapacityPlusOneSlotsOnceAndPushNeverAllocates) {
  test_upstream up;
  {
    replay_ring<std::uint64_t> r(4, &up);
    EXPECT_EQ(r.get_allocator().resource(), &up);
    EXPECT_EQ(r.capacity(), 4u);
    EXPECT_EQ(up.allocate_calls(), 1u);
    EXPECT_EQ(up.outstanding_bytes(), 5 * sizeof(std::uint64_t));
    for (std::uint64_t i = 0; i < 20; ++i) r.push(i);
    EXPECT_EQ(up.allocate_calls(), 1u);
    r.clear();
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.capacity(), 4u);
    r.push(7u);
    EXPECT_EQ(r.front(), 7u);
    EXPECT_EQ(up.allocate_calls(), 1u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ReplayRing, StorageHonoursOverAlignedElements) {
  struct alignas(128) wide {
    int v = 0;
  };
  test_upstream up;  // checks that deallocate passes the same alignment
  replay_ring<wide> r(3, &up);
  for (int i = 0; i < 5; ++i) {
    wide& w = r.push();
    w.v = i;
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&w) % 128, 0u);
  }
  EXPECT_EQ(r.front().v, 2);
}

TEST(ReplayRing, HugeCapacityThrowsAndLeaksNothing) {
  test_upstream up;
  EXPECT_THROW(replay_ring<int>(std::numeric_limits<std::size_t>::max(), &up), std::bad_array_new_length);
  EXPECT_THROW(replay_ring<int>(replay_ring<int>().max_size() + 1, &up), std::bad_array_new_length);
  EXPECT_EQ(up.allocate_calls(), 0u);
  up.fail_at(1);
  EXPECT_THROW(replay_ring<int>(16, &up), std::bad_alloc);
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// --- order ------------------------------------------------------------------------------------------

TEST(ReplayRing, WrapsAroundOldestFirst) {
  replay_ring<int> r(3);
  EXPECT_EQ(r.push(1), 1);
  r.push(2);
  EXPECT_FALSE(r.full());
  r.push(3);
  EXPECT_TRUE(r.full());
  EXPECT_EQ(contents(r), (std::vector<int>{1, 2, 3}));
  int& newest = r.push(4);  // drops 1
  EXPECT_EQ(&newest, &r.back());
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(contents(r), (std::vector<int>{2, 3, 4}));
  for (int i = 5; i <= 11; ++i) r.push(i);
  EXPECT_EQ(contents(r), (std::vector<int>{9, 10, 11}));
  EXPECT_EQ(r.front(), 9);
  EXPECT_EQ(r.back(), 11);
  EXPECT_EQ(r[0], 9);
  EXPECT_EQ(r[2], 11);
  EXPECT_EQ(r.sample(1), 10);
  const replay_ring<int>& c = r;
  EXPECT_EQ(c.sample(2), 11);
  EXPECT_EQ(c.front(), 9);
  EXPECT_EQ(c.back(), 11);
  EXPECT_EQ(std::vector<int>(c.cbegin(), c.cend()), (std::vector<int>{9, 10, 11}));
  EXPECT_EQ(std::vector<int>(std::make_reverse_iterator(r.end()), std::make_reverse_iterator(r.begin())), (std::vector<int>{11, 10, 9}));
}

TEST(ReplayRing, PopFrontRemovesOldest) {
  replay_ring<int> r(3);
  for (int i = 1; i <= 5; ++i) r.push(i);  // 3 4 5, head not at slot 0
  r.pop_front();
  EXPECT_EQ(contents(r), (std::vector<int>{4, 5}));
  r.push(6);
  r.push(7);  // full again: drops 4
  EXPECT_EQ(contents(r), (std::vector<int>{5, 6, 7}));
  r.pop_front();
  r.pop_front();
  r.pop_front();
  EXPECT_TRUE(r.empty());
  EXPECT_THROW(r.pop_front(), std::out_of_range);
  r.push(8);
  EXPECT_EQ(contents(r), (std::vector<int>{8}));
}

TEST(ReplayRing, MatchesABoundedDequeUnderRandomOperations) {
  std::mt19937 rng(12345);
  for (std::size_t cap : {1u, 2u, 5u, 8u}) {
    replay_ring<int> r(cap);
    std::deque<int> model;
    for (int step = 0; step < 2000; ++step) {
      const unsigned op = rng() % 10;
      if (op < 6) {
        r.push(step);
        model.push_back(step);
        if (model.size() > cap) model.pop_front();
      } else if (op < 8) {
        if (model.empty()) {
          EXPECT_THROW(r.pop_front(), std::out_of_range);
        } else {
          r.pop_front();
          model.pop_front();
        }
      } else if (op == 8) {
        if (!model.empty()) {
          const std::size_t i = rng() % model.size();
          ASSERT_EQ(r.sample(i), model[i]);
        }
      } else if (rng() % 20 == 0) {
        r.clear();
        model.clear();
      }
      ASSERT_EQ(r.size(), model.size());
      ASSERT_EQ(r.full(), model.size() == cap);
      ASSERT_TRUE(std::equal(r.begin(), r.end(), model.begin(), model.end())) << "cap " << cap << " step " << step;
    }
  }
}

TEST(ReplayRing, IteratorsAreRandomAccessOverTheWrap) {
  replay_ring<int> r(5);
  for (int i = 0; i < 8; ++i) r.push(i * 10);  // 30 40 50 60 70, wrapped
  auto b = r.begin();
  EXPECT_EQ(r.end() - b, 5);
  EXPECT_EQ(b[3], 60);
  EXPECT_EQ(*(b + 4), 70);
  EXPECT_EQ(*(4 + b), 70);
  EXPECT_EQ(*(r.end() - 1), 70);
  auto it = b;
  it += 3;
  it -= 1;
  EXPECT_EQ(*it, 50);
  EXPECT_TRUE(b < it);
  EXPECT_EQ(*it--, 50);
  EXPECT_EQ(*it, 40);
  replay_ring<int>::const_iterator ci = r.begin();
  EXPECT_EQ(*ci, 30);
  // Mutating through iterators reaches the elements in logical order.
  std::reverse(r.begin(), r.end());
  EXPECT_EQ(contents(r), (std::vector<int>{70, 60, 50, 40, 30}));
  std::sort(r.begin(), r.end());
  EXPECT_EQ(contents(r), (std::vector<int>{30, 40, 50, 60, 70}));
}

TEST(ReplayRing, SampleOutOfRangeThrows) {
  replay_ring<int> r(4);
  EXPECT_THROW(r.sample(0), std::out_of_range);
  r.push(1);
  r.push(2);
  EXPECT_EQ(r.sample(1), 2);
  EXPECT_THROW(r.sample(2), std::out_of_range);
  EXPECT_THROW(r.sample(std::numeric_limits<std::size_t>::max()), std::out_of_range);
  const replay_ring<int>& c = r;
  EXPECT_THROW(c.sample(3), std::out_of_range);
  for (int i = 0; i < 10; ++i) r.push(i);
  EXPECT_THROW(r.sample(4), std::out_of_range);  // capacity is not a valid index
  EXPECT_EQ(r.sample(3), 9);
}

TEST(ReplayRing, EqualityComparesElementsNotCapacityOrResource) {
  std::pmr::monotonic_buffer_resource other;
  replay_ring<int> a(3);
  replay_ring<int> b(10, &other);
  for (int i = 0; i < 5; ++i) a.push(i);  // 2 3 4
  for (int i = 2; i < 5; ++i) b.push(i);
  EXPECT_TRUE(a == b);
  b.push(5);
  EXPECT_FALSE(a == b);
  a.push(5);
  EXPECT_FALSE(a == b);  // 3 4 5 vs 2 3 4 5
}

// --- element lifetime and exception safety --------------------------------------------------------

TEST_F(ThrowingElements, PushOnFullRingDestroysExactlyTheOldest) {
  {
    replay_ring<throwing> r(3);
    for (int i = 0; i < 10; ++i) {
      r.push(i);
      EXPECT_EQ(throwing::live, std::min(i + 1, 3));
    }
    EXPECT_EQ(values(r), (std::vector<int>{7, 8, 9}));
    r.pop_front();
    EXPECT_EQ(throwing::live, 2);
    r.clear();
    EXPECT_EQ(throwing::live, 0);
    r.push(1);
  }
}

TEST_F(ThrowingElements, ThrowingConstructorLeavesFullRingUnchanged) {
  test_upstream up;
  replay_ring<throwing> r(3, &up);
  for (int i = 0; i < 5; ++i) r.push(i);  // 2 3 4, wrapped
  const throwing* oldest = &r.front();
  throwing::arm(1);
  EXPECT_THROW(r.push(99), std::runtime_error);
  EXPECT_EQ(values(r), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(&r.front(), oldest);
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(throwing::live, 3);
  // The spare slot is still usable.
  r.push(5);
  EXPECT_EQ(values(r), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(throwing::live, 3);
  // Copying an element of the ring into it, failing then succeeding.
  throwing::arm(1);
  EXPECT_THROW(r.push(r.back()), std::runtime_error);
  EXPECT_EQ(values(r), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(up.allocate_calls(), 1u);
}

TEST_F(ThrowingElements, ThrowingConstructorLeavesPartlyFilledRingUnchanged) {
  replay_ring<throwing> r(4);
  r.push(1);
  r.push(2);
  throwing::arm(1);
  EXPECT_THROW(r.push(3), std::runtime_error);
  EXPECT_EQ(values(r), (std::vector<int>{1, 2}));
  EXPECT_EQ(throwing::live, 2);
  r.push(3);
  EXPECT_EQ(values(r), (std::vector<int>{1, 2, 3}));
}

TEST(ReplayRing, PushMayCopyTheOldestElementOfAFullRing) {
  test_upstream up;
  replay_ring<std::pmr::string> r(3, &up);
  for (int i = 0; i < 3; ++i) r.push(long_text(i));
  // The argument is the element that the push drops: it must still be alive when copied.
  r.push(r.front());
  EXPECT_EQ(r.back(), long_text(0));
  EXPECT_EQ(r.front(), long_text(1));
  r.push(std::move(r.front()));  // moving from the element being dropped
  EXPECT_EQ(r.back(), long_text(1));
  EXPECT_EQ(r.size(), 3u);
}

TEST(ReplayRing, ThrowingUpstreamOnElementPushLeavesRingUnchangedAndLeaksNothing) {
  test_upstream up;
  {
    replay_ring<std::pmr::string> r(2, &up);
    r.push(long_text(1));
    r.push(long_text(2));
    up.fail_at(1);
    EXPECT_THROW(r.push(long_text(3)), std::bad_alloc);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], long_text(1));
    EXPECT_EQ(r[1], long_text(2));
    EXPECT_EQ(up.outstanding_blocks(), 3u);  // storage + two strings
    r.push(long_text(3));
    EXPECT_EQ(r[0], long_text(2));
    EXPECT_EQ(up.outstanding_blocks(), 3u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// --- uses-allocator construction -----------------------------------------------------------------

TEST(ReplayRing, TensorBufferElementsUseTheRingsResource) {
  test_upstream up;
  {
    replay_ring<tensor_buffer<float>> r(2, &up);
    for (int i = 0; i < 5; ++i) {
      tensor_buffer<float>& t = r.push(tensor_shape{2, 3});
      EXPECT_EQ(t.shape(), (tensor_shape{2, 3}));
      t[0] = float(i);
    }
    for (const auto& t : r) EXPECT_EQ(t.get_allocator().resource(), &up);
    EXPECT_EQ(r[0][0], 3.0f);
    EXPECT_EQ(r[1][0], 4.0f);
    EXPECT_EQ(up.outstanding_blocks(), 3u);  // storage + two live buffers
    // A buffer from elsewhere is copied into the ring's resource.
    std::pmr::monotonic_buffer_resource other;
    tensor_buffer<float> outside({4}, 1.5f, &other);
    r.push(outside);
    EXPECT_EQ(r.back().get_allocator().resource(), &up);
    EXPECT_EQ(r.back(), outside);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ReplayRing, PmrVectorAndStringElementsUseTheRingsResource) {
  test_upstream up;
  std::pmr::monotonic_buffer_resource other;
  {
    replay_ring<std::pmr::vector<int>> vr(3, &up);
    vr.push(5u, 7);  // vector(5, 7, alloc)
    vr.push(std::pmr::vector<int>({1, 2, 3}, &other));
    EXPECT_EQ(vr[0], (std::pmr::vector<int>(5, 7)));
    EXPECT_EQ(vr[1], (std::pmr::vector<int>{1, 2, 3}));
    for (const auto& v : vr) EXPECT_EQ(v.get_allocator().resource(), &up);

    replay_ring<std::pmr::string> sr(2, &up);
    sr.push(long_text(1));
    sr.push(std::pmr::string(long_text(2), &other));
    sr.push(3u, 'x');
    EXPECT_EQ(sr[0], long_text(2));
    EXPECT_EQ(sr[1], "xxx");
    for (const auto& s : sr) EXPECT_EQ(s.get_allocator().resource(), &up);

    // Leading-allocator (allocator_arg) and pair construction go through the same machinery.
    replay_ring<std::tuple<std::pmr::string, int>> tr(1, &up);
    tr.push(long_text(4), 4);
    EXPECT_EQ(std::get<0>(tr.front()).get_allocator().resource(), &up);
    replay_ring<std::pair<std::pmr::string, std::pmr::vector<int>>> pr(1, &up);
    pr.push(long_text(5), std::pmr::vector<int>{5});
    EXPECT_EQ(pr.front().first.get_allocator().resource(), &up);
    EXPECT_EQ(pr.front().second.get_allocator().resource(), &up);
    EXPECT_EQ(pr.front().second, (std::pmr::vector<int>{5}));
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ReplayRing, PmrVectorOfRingsHandsItsResourceDownToEveryLevel) {
  test_upstream up;
  {
    std::pmr::vector<replay_ring<std::pmr::string>> rings(&up);
    for (int k = 0; k < 6; ++k) {  // several reallocations of the vector move the rings
      auto& ring = rings.emplace_back(std::size_t(2));
      EXPECT_EQ(ring.capacity(), 2u);
      for (int i = 0; i < 3; ++i) ring.push(long_text(k * 10 + i));
    }
    for (int k = 0; k < 6; ++k) {
      const auto& ring = rings[std::size_t(k)];
      EXPECT_EQ(ring.get_allocator().resource(), &up);
      ASSERT_EQ(ring.size(), 2u);
      EXPECT_EQ(ring[0], long_text(k * 10 + 1));
      EXPECT_EQ(ring[1], long_text(k * 10 + 2));
      for (const auto& s : ring) EXPECT_EQ(s.get_allocator().resource(), &up);
    }

    // The vector's allocator-extended copy hands its resource down: rings and strings in `other`.
    test_upstream other;
    {
      std::pmr::vector<replay_ring<std::pmr::string>> copy(rings, &other);
      ASSERT_EQ(copy.size(), rings.size());
      for (std::size_t k = 0; k < copy.size(); ++k) {
        EXPECT_EQ(copy[k].get_allocator().resource(), &other);
        EXPECT_EQ(copy[k].capacity(), 2u);
        EXPECT_TRUE(copy[k] == rings[k]);
        for (const auto& s : copy[k]) EXPECT_EQ(s.get_allocator().resource(), &other);
      }
    }
    EXPECT_EQ(other.outstanding_blocks(), 0u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ReplayRing, RingsOfRingsAndOfTensorsInAVectorAllShareTheResource) {
  test_upstream up;
  {
    replay_ring<replay_ring<std::pmr::vector<int>>> outer(2, &up);
    for (int k = 0; k < 3; ++k) {
      auto& inner = outer.push(std::size_t(2));
      inner.push(std::size_t(3), k);
    }
    for (const auto& inner : outer) {
      EXPECT_EQ(inner.get_allocator().resource(), &up);
      EXPECT_EQ(inner.capacity(), 2u);
      for (const auto& v : inner) EXPECT_EQ(v.get_allocator().resource(), &up);
    }
    EXPECT_EQ(outer[0].front(), (std::pmr::vector<int>(3, 1)));

    std::pmr::vector<replay_ring<tensor_buffer<float>>> batch(&up);
    batch.reserve(1);
    batch.emplace_back(std::size_t(3)).push(tensor_shape{8});
    batch.emplace_back(std::size_t(3)).push(tensor_shape{4, 4});
    for (const auto& ring : batch) {
      EXPECT_EQ(ring.get_allocator().resource(), &up);
      for (const auto& t : ring) EXPECT_EQ(t.get_allocator().resource(), &up);
    }
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

// --- copy -----------------------------------------------------------------------------------------

TEST(ReplayRing, PlainCopyUsesTheDefaultResource) {
  test_upstream def;
  test_upstream up;
  {
    replay_ring<std::pmr::string> a(3, &up);
    for (int i = 0; i < 5; ++i) a.push(long_text(i));  // wrapped
    testing::default_resource_guard guard(&def);
    replay_ring<std::pmr::string> b(a);
    EXPECT_EQ(b.get_allocator().resource(), &def);
    EXPECT_EQ(b.capacity(), 3u);
    EXPECT_TRUE(b == a);
    for (const auto& s : b) EXPECT_EQ(s.get_allocator().resource(), &def);
    b.push(long_text(9));  // the copy is a working ring of its own
    EXPECT_EQ(b.front(), long_text(3));
    EXPECT_EQ(a.front(), long_text(2));
  }
  EXPECT_EQ(def.outstanding_blocks(), 0u);
}

TEST(ReplayRing, AllocatorExtendedCopyUsesTheGivenResource) {
  test_upstream up, other;
  {
    replay_ring<std::pmr::string> a(4, &up);
    for (int i = 0; i < 6; ++i) a.push(long_text(i));
    replay_ring<std::pmr::string> b(a, &other);
    EXPECT_EQ(b.get_allocator().resource(), &other);
    EXPECT_EQ(b.capacity(), 4u);
    EXPECT_TRUE(b == a);
    for (const auto& s : b) EXPECT_EQ(s.get_allocator().resource(), &other);
    EXPECT_EQ(other.outstanding_blocks(), 5u);  // storage + 4 strings
  }
  EXPECT_EQ(other.outstanding_blocks(), 0u);
}

TEST(ReplayRing, CopyAssignmentKeepsTheDestinationsResourceAndTakesTheSourcesCapacity) {
  test_upstream up, other;
  {
    replay_ring<std::pmr::string> a(3, &up);
    for (int i = 0; i < 4; ++i) a.push(long_text(i));
    replay_ring<std::pmr::string> b(7, &other);
    b.push(long_text(100));
    b = a;
    EXPECT_EQ(b.get_allocator().resource(), &other);
    EXPECT_EQ(b.capacity(), 3u);
    EXPECT_TRUE(b == a);
    for (const auto& s : b) EXPECT_EQ(s.get_allocator().resource(), &other);
    EXPECT_EQ(other.outstanding_blocks(), 4u);  // the old storage and string are gone
    const auto& self = b;
    b = self;
    EXPECT_TRUE(b == a);
    b = replay_ring<std::pmr::string>();  // capacity 0 too
    EXPECT_EQ(b.capacity(), 0u);
    EXPECT_EQ(b.get_allocator().resource(), &other);
    EXPECT_EQ(other.outstanding_blocks(), 0u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST_F(ThrowingElements, CopyThatThrowsMidwayLeavesTheDestinationUnchangedAndLeaksNothing) {
  test_upstream up, other;
  {
    replay_ring<throwing> a(4, &up);
    for (int i = 0; i < 6; ++i) a.push(i);  // 2 3 4 5
    throwing::arm(3);
    EXPECT_THROW(replay_ring<throwing>(a, &other), std::runtime_error);
    EXPECT_EQ(other.outstanding_blocks(), 0u);
    EXPECT_EQ(throwing::live, 4);

    replay_ring<throwing> b(2, &other);
    b.push(42);
    throwing::arm(2);
    EXPECT_THROW(b = a, std::runtime_error);
    EXPECT_EQ(values(b), (std::vector<int>{42}));
    EXPECT_EQ(b.capacity(), 2u);
    EXPECT_EQ(throwing::live, 5);
    // Moving from a ring with another resource copies (throwing has no move), so it may fail too:
    // both rings stay as they were.
    throwing::arm(4);
    EXPECT_THROW(b = std::move(a), std::runtime_error);
    EXPECT_EQ(values(b), (std::vector<int>{42}));
    EXPECT_EQ(values(a), (std::vector<int>{2, 3, 4, 5}));
    b = std::move(a);
    EXPECT_EQ(values(b), (std::vector<int>{2, 3, 4, 5}));
    EXPECT_EQ(b.get_allocator().resource(), &other);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(other.outstanding_blocks(), 0u);
}

TEST(ReplayRing, CopyIntoAThrowingUpstreamLeaksNothingAtAnyFailurePoint) {
  test_upstream up;
  replay_ring<std::pmr::vector<int>> a(3, &up);
  for (int i = 0; i < 5; ++i) a.push(std::size_t(4), i);
  bool succeeded = false;
  for (std::size_t n = 1; n < 10 && !succeeded; ++n) {
    test_upstream other;
    other.fail_at(n);
    try {
      replay_ring<std::pmr::vector<int>> b(a, &other);
      succeeded = true;
      EXPECT_EQ(n, 5u) << "storage + 3 vectors: the 5th call is the first one not made";
      EXPECT_TRUE(b == a);
    } catch (const std::bad_alloc&) {
      EXPECT_EQ(other.outstanding_blocks(), 0u) << "failure at call " << n;
    }
  }
  EXPECT_TRUE(succeeded);
}

// --- move -----------------------------------------------------------------------------------------

TEST(ReplayRing, MoveStealsTheStorageAndLeavesAnEmptyRingWithoutCapacity) {
  test_upstream up;
  {
    replay_ring<std::pmr::string> a(3, &up);
    for (int i = 0; i < 4; ++i) a.push(long_text(i));
    const std::pmr::string* front = &a.front();
    const std::size_t calls = up.allocate_calls();
    replay_ring<std::pmr::string> b(std::move(a));
    EXPECT_EQ(up.allocate_calls(), calls);
    EXPECT_EQ(&b.front(), front);
    EXPECT_EQ(b.get_allocator().resource(), &up);
    EXPECT_EQ(b.capacity(), 3u);
    EXPECT_EQ(b.front(), long_text(1));
    EXPECT_EQ(a.capacity(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_TRUE(a.empty());
    EXPECT_EQ(a.get_allocator().resource(), &up);
    EXPECT_THROW(a.push(long_text(9)), std::length_error);

    // Allocator-extended move with an equal resource steals too.
    replay_ring<std::pmr::string> c(std::move(b), &up);
    EXPECT_EQ(&c.front(), front);
    EXPECT_EQ(b.capacity(), 0u);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(up.allocate_calls(), calls);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ReplayRing, AllocatorExtendedMoveToAnotherResourceMovesElementsAndLeavesSourceValid) {
  test_upstream up, other;
  {
    replay_ring<std::pmr::string> a(3, &up);
    for (int i = 0; i < 5; ++i) a.push(long_text(i));  // 2 3 4
    replay_ring<std::pmr::string> b(std::move(a), &other);
    EXPECT_EQ(b.get_allocator().resource(), &other);
    EXPECT_EQ(b.capacity(), 3u);
    ASSERT_EQ(b.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(b[std::size_t(i)], long_text(i + 2));
    for (const auto& s : b) EXPECT_EQ(s.get_allocator().resource(), &other);
    // The source is still a valid ring on its own resource.
    EXPECT_EQ(a.get_allocator().resource(), &up);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.capacity(), 3u);
    a.push(long_text(7));
    EXPECT_EQ(a.back(), long_text(7));
    a.clear();
    EXPECT_EQ(up.outstanding_blocks(), 1u);
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(other.outstanding_blocks(), 0u);
}

TEST(ReplayRing, MoveAssignmentBetweenEqualResourcesSteals) {
  test_upstream up;
  {
    replay_ring<std::pmr::string> a(2, &up);
    a.push(long_text(1));
    replay_ring<std::pmr::string> b(5, &up);
    b.push(long_text(2));
    b.push(long_text(3));
    const std::pmr::string* front = &a.front();
    const std::size_t calls = up.allocate_calls();
    b = std::move(a);
    EXPECT_EQ(up.allocate_calls(), calls);
    EXPECT_EQ(&b.front(), front);
    EXPECT_EQ(b.capacity(), 2u);
    EXPECT_EQ(b.size(), 1u);
    EXPECT_EQ(up.outstanding_blocks(), 2u);  // b's old storage and strings are freed
    EXPECT_EQ(a.capacity(), 0u);  // NOLINT(bugprone-use-after-move)
    auto& self = b;
    b = std::move(self);
    EXPECT_EQ(b.front(), long_text(1));
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
}

TEST(ReplayRing, MoveAssignmentBetweenDifferentResourcesMovesElementsNotStorage) {
  test_upstream up, other;
  {
    replay_ring<std::pmr::string> a(3, &up);
    for (int i = 0; i < 4; ++i) a.push(long_text(i));  // 1 2 3
    replay_ring<std::pmr::string> b(1, &other);
    b.push(long_text(50));
    const std::pmr::string* a_front = &a.front();
    b = std::move(a);
    EXPECT_EQ(b.get_allocator().resource(), &other);
    EXPECT_NE(&b.front(), a_front);
    EXPECT_EQ(b.capacity(), 3u);
    ASSERT_EQ(b.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(b[std::size_t(i)], long_text(i + 1));
    for (const auto& s : b) EXPECT_EQ(s.get_allocator().resource(), &other);
    EXPECT_EQ(other.outstanding_blocks(), 4u);
    // The source keeps its storage and resource and remains usable.
    EXPECT_EQ(a.get_allocator().resource(), &up);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(a.capacity(), 3u);
    EXPECT_EQ(&a.front(), a_front);
    a.push(long_text(8));
    EXPECT_EQ(a.back(), long_text(8));
  }
  EXPECT_EQ(up.outstanding_blocks(), 0u);
  EXPECT_EQ(other.outstanding_blocks(), 0u);
}

// --- swap -----------------------------------------------------------------------------------------

TEST(ReplayRing, SwapWithEqualAllocatorsExchangesContents) {
  test_upstream up;
  replay_ring<int> a(2, &up), b(4, &up);
  a.push(1);
  for (int i = 0; i < 6; ++i) b.push(i);
  const int* b_front = &b.front();
  swap(a, b);
  EXPECT_EQ(&a.front(), b_front);
  EXPECT_EQ(contents(a), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(a.capacity(), 4u);
  EXPECT_EQ(contents(b), (std::vector<int>{1}));
  b.swap(a);
  EXPECT_EQ(contents(b), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(up.allocate_calls(), 2u);
}

TEST(ReplayRingDeathTest, SwapWithUnequalAllocatorsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto swap_unequal = [] {
    std::pmr::monotonic_buffer_resource r1, r2;
    replay_ring<int> a(1, &r1);
    replay_ring<int> b(1, &r2);
    a.swap(b);
  };
  EXPECT_DEATH(swap_unequal(), "unequal allocators");
}

}  // namespace
}  // namespace allocbench
