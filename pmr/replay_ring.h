// allocbench::replay_ring<T>: a fixed-capacity ring of samples (an RL replay buffer), whose storage and
// elements come from a std::pmr::memory_resource.
//
//   allocbench::replay_ring<allocbench::tensor_buffer<float>> replay(100000, &pool);
//   replay.push(allocbench::tensor_shape{84, 84});   // built in place with `pool`; drops the oldest
//   const auto& s = replay.sample(rng() % replay.size());   // 0 = oldest, size()-1 = newest
//   for (auto& t : replay) { ... }                          // oldest to newest
//
// Allocator-aware like the standard's containers, with allocator_type =
// std::pmr::polymorphic_allocator<T>:
// - push(args...) builds the element in place by uses-allocator construction: an element type that
//   takes a compatible allocator (tensor_buffer<float>, std::pmr::vector<int>, std::pmr::string, ...)
//   gets the ring's resource; others are constructed from args as they are;
// - the trailing-allocator constructors make the ring itself uses-allocator constructible (e.g. as
//   an element of a std::pmr::vector);
// - a plain copy uses the default resource (as std::pmr containers do); the allocator-extended copy
//   and move take the one given; the allocator never propagates on assignment; a move (construct or
//   assign) between equal resources steals the storage, between different ones moves or copies each
//   element into the destination's resource and leaves the source valid;
// - swap requires equal allocators; unequal ones abort with a message (checked in every build).
//
// Capacity is fixed when the ring is made: push never allocates. The storage holds capacity + 1 slots:
// a push into a full ring builds the new element in the spare slot *before* destroying the oldest, so
// a throwing constructor leaves the ring unchanged (strong guarantee), and args may refer to an
// element of the ring itself. A default-constructed or moved-from ring has capacity 0 and owns no
// memory; push on it throws std::length_error. Assignment makes the destination equal to the source,
// capacity included.
//
// Checked access: sample(i) and pop_front() throw std::out_of_range when out of range / empty;
// operator[], front() and back() do not check (preconditions: i < size(), !empty()).
#pragma once

#include <compare>
#include <cstddef>
#include <iterator>
#include <limits>
#include <memory>
#include <memory_resource>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "pmr/element_storage.h"

namespace allocbench {

template <class T>
class replay_ring {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "replay_ring<T> needs a non-const, non-volatile object type");

  template <bool Const>
  class basic_iterator;

 public:
  using value_type = T;
  using allocator_type = std::pmr::polymorphic_allocator<T>;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = basic_iterator<false>;
  using const_iterator = basic_iterator<true>;

  // --- construction ----------------------------------------------------------------------------

  replay_ring() noexcept : replay_ring(allocator_type()) {}
  explicit replay_ring(const allocator_type& alloc) noexcept : alloc_(alloc) {}

  // Allocates room for `capacity` elements (+1 spare slot) now; no element is constructed.
  explicit replay_ring(size_type capacity, const allocator_type& alloc = {}) : alloc_(alloc) {
    storage fresh(*this, slots_for(capacity));
    adopt(fresh);
  }

  replay_ring(const replay_ring& other)
      : replay_ring(other, std::allocator_traits<allocator_type>::select_on_container_copy_construction(
                               other.alloc_)) {}

  replay_ring(const replay_ring& other, const allocator_type& alloc) : alloc_(alloc) {
    build_from(other, [](const T& x) -> const T& { return x; });
  }

  replay_ring(replay_ring&& other) noexcept : alloc_(other.alloc_) { steal(other); }

  // Steals when the resources are equal; otherwise builds each element in `alloc`'s resource from the
  // moved (or, when T's move may throw, copied) source element.
  replay_ring(replay_ring&& other, const allocator_type& alloc) : alloc_(alloc) {
    if (alloc_ == other.alloc_) {
      steal(other);
    } else if constexpr (std::is_nothrow_move_constructible_v<T>) {
      build_from(other, [](T& x) -> T&& { return std::move(x); });
    } else {
      build_from(other, [](const T& x) -> const T& { return x; });
    }
  }

  ~replay_ring() { destroy_and_free(); }

  // --- assignment (the allocator never propagates) -------------------------------------------

  replay_ring& operator=(const replay_ring& other) {
    if (this != &other) detail::non_propagating::copy_assign(*this, other);
    return *this;
  }

  replay_ring& operator=(replay_ring&& other) {
    detail::non_propagating::move_assign(*this, other);
    return *this;
  }

  // Precondition: get_allocator() == other.get_allocator() (aborts otherwise).
  void swap(replay_ring& other) noexcept {
    detail::non_propagating::swap(*this, other, "replay_ring", "swap between rings with unequal allocators");
  }
  friend void swap(replay_ring& a, replay_ring& b) noexcept { a.swap(b); }

  allocator_type get_allocator() const noexcept { return alloc_; }

  // --- modifiers -------------------------------------------------------------------------------

  // Constructs a new newest element from args (uses-allocator construction with the ring's
  // resource); when full, then destroys the oldest. Returns the new element.
  template <class... Args>
  T& push(Args&&... args) {
    if (slots_ == 0) [[unlikely]] throw_no_capacity();
    T* slot = data_ + physical(size_);  // the free slot after the newest (the spare one when full)
    std::uninitialized_construct_using_allocator(slot, alloc_, std::forward<Args>(args)...);
    if (size_ == capacity()) {
      std::destroy_at(data_ + head_);
      head_ = physical(1);
    } else {
      ++size_;
    }
    return *slot;
  }

  void pop_front() {
    if (size_ == 0) [[unlikely]] throw std::out_of_range("allocbench::replay_ring::pop_front: empty ring");
    std::destroy_at(data_ + head_);
    head_ = physical(1);
    --size_;
  }

  // Destroys every element; keeps the storage.
  void clear() noexcept {
    for (size_type i = 0; i < size_; ++i) std::destroy_at(data_ + physical(i));
    head_ = 0;
    size_ = 0;
  }

  // --- access (0 = oldest) ---------------------------------------------------------------------

  size_type size() const noexcept { return size_; }
  size_type capacity() const noexcept { return slots_ == 0 ? 0 : slots_ - 1; }
  bool empty() const noexcept { return size_ == 0; }
  bool full() const noexcept { return size_ == capacity(); }
  size_type max_size() const noexcept {
    return std::numeric_limits<size_type>::max() / sizeof(T) - 1;
  }

  T& operator[](size_type i) noexcept { return data_[physical(i)]; }
  const T& operator[](size_type i) const noexcept { return data_[physical(i)]; }
  T& front() noexcept { return data_[head_]; }
  const T& front() const noexcept { return data_[head_]; }
  T& back() noexcept { return data_[physical(size_ - 1)]; }
  const T& back() const noexcept { return data_[physical(size_ - 1)]; }

  // operator[] with a bounds check (std::out_of_range): the access a sampler makes with a computed
  // index.
  T& sample(size_type i) { return data_[physical(checked(i))]; }
  const T& sample(size_type i) const { return data_[physical(checked(i))]; }

  iterator begin() noexcept { return {this, 0}; }
  iterator end() noexcept { return {this, size_}; }
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, size_}; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  // Same elements in the same order (capacity and allocator are not compared).
  friend bool operator==(const replay_ring& a, const replay_ring& b) {
    if (a.size_ != b.size_) return false;
    for (size_type i = 0; i < a.size_; ++i) {
      if (!(a[i] == b[i])) return false;
    }
    return true;
  }

 private:
  friend struct detail::non_propagating;

  // Raw storage for `slots` elements from our resource that frees itself unless adopted.
  struct storage : detail::element_storage<T> {
    storage(replay_ring& owner, size_type slots)
        : detail::element_storage<T>(owner.alloc_.resource(), slots, alignof(T)) {}
  };

  template <bool Const>
  class basic_iterator {
    using ring_ptr = std::conditional_t<Const, const replay_ring*, replay_ring*>;

   public:
    using iterator_category = std::random_access_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const T*, T*>;
    using reference = std::conditional_t<Const, const T&, T&>;

    basic_iterator() = default;
    basic_iterator(ring_ptr ring, size_type index) noexcept : ring_(ring), index_(index) {}
    operator basic_iterator<true>() const noexcept
      requires(!Const)
    {
      return {ring_, index_};
    }

    reference operator*() const noexcept { return (*ring_)[index_]; }
    pointer operator->() const noexcept { return &(*ring_)[index_]; }
    reference operator[](difference_type n) const noexcept { return (*ring_)[index_ + n]; }

    basic_iterator& operator++() noexcept { ++index_; return *this; }
    basic_iterator operator++(int) noexcept { auto old = *this; ++index_; return old; }
    basic_iterator& operator--() noexcept { --index_; return *this; }
    basic_iterator operator--(int) noexcept { auto old = *this; --index_; return old; }
    basic_iterator& operator+=(difference_type n) noexcept { index_ += n; return *this; }
    basic_iterator& operator-=(difference_type n) noexcept { index_ -= n; return *this; }
    friend basic_iterator operator+(basic_iterator it, difference_type n) noexcept { return it += n; }
    friend basic_iterator operator+(difference_type n, basic_iterator it) noexcept { return it += n; }
    friend basic_iterator operator-(basic_iterator it, difference_type n) noexcept { return it -= n; }
    friend difference_type operator-(const basic_iterator& a, const basic_iterator& b) noexcept {
      return difference_type(a.index_) - difference_type(b.index_);
    }
    friend bool operator==(const basic_iterator& a, const basic_iterator& b) noexcept {
      return a.index_ == b.index_;
    }
    friend std::strong_ordering operator<=>(const basic_iterator& a, const basic_iterator& b) noexcept {
      return a.index_ <=> b.index_;
    }

   private:
    ring_ptr ring_ = nullptr;
    size_type index_ = 0;  // logical: 0 = oldest
  };

  static size_type slots_for(size_type capacity) {
    if (capacity == 0) return 0;
    if (capacity > std::numeric_limits<size_type>::max() / sizeof(T) - 1) [[unlikely]] {
      throw std::bad_array_new_length();
    }
    return capacity + 1;
  }

  // Logical index (0 = oldest) to slot; i <= slots_ - 1, so one subtraction wraps it.
  size_type physical(size_type i) const noexcept {
    size_type j = head_ + i;
    return j >= slots_ ? j - slots_ : j;
  }

  size_type checked(size_type i) const {
    if (i >= size_) [[unlikely]] {
      throw std::out_of_range("allocbench::replay_ring::sample: index " + std::to_string(i) +
                              " >= size " + std::to_string(size_));
    }
    return i;
  }

  [[noreturn]] static void throw_no_capacity() {
    throw std::length_error("allocbench::replay_ring::push: the ring has capacity 0");
  }

  void adopt(storage& fresh) noexcept {
    data_ = fresh.release();
    slots_ = fresh.count;
    head_ = 0;
    size_ = 0;
  }

  // Fresh storage of other's capacity holding source(other[i]) for each i, oldest at slot 0; on a
  // throw, destroys what it built and frees the storage.
  template <class Ring, class Source>
  void build_from(Ring& other, Source source) {
    storage fresh(*this, other.slots_);
    size_type done = 0;
    try {
      for (; done < other.size_; ++done) {
        std::uninitialized_construct_using_allocator(
            fresh.data + done, alloc_, source(other[done]));
      }
    } catch (...) {
      std::destroy_n(fresh.data, done);
      throw;
    }
    adopt(fresh);
    size_ = done;
  }

  void destroy_and_free() noexcept {
    clear();
    detail::deallocate_elements(alloc_.resource(), data_, slots_, alignof(T));
  }

  // Precondition: our storage is already released (or never existed); alloc_ equals other's.
  void steal(replay_ring& other) noexcept {
    data_ = std::exchange(other.data_, nullptr);
    slots_ = std::exchange(other.slots_, 0);
    head_ = std::exchange(other.head_, 0);
    size_ = std::exchange(other.size_, 0);
  }

  void swap_storage(replay_ring& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(slots_, other.slots_);
    std::swap(head_, other.head_);
    std::swap(size_, other.size_);
  }

  allocator_type alloc_;
  T* data_ = nullptr;
  size_type slots_ = 0;  // capacity + 1, or 0 for a ring without storage
  size_type head_ = 0;   // slot of the oldest element
  size_type size_ = 0;
};

}  // namespace allocbench
