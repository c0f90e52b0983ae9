// allocbench::tensor_buffer<T>: a contiguous, shaped, aligned buffer of T whose memory comes from a
// std::pmr::memory_resource.
//
//   allocbench::segregated_resource pool(...);                     // any memory_resource
//   allocbench::tensor_buffer<float> obs({32, 84, 84}, &pool);     // 64-byte aligned, zero-filled
//   obs[0] = 1.0f;                                                 // flat, row-major index
//   obs.resize({64, 84, 84});                                      // keeps the first 32 frames
//   std::pmr::vector<allocbench::tensor_buffer<float>> batch(&pool);
//   batch.emplace_back(allocbench::tensor_shape{4});               // the element also uses `pool`
//
// An allocator-aware container in the sense of the standard, with allocator_type =
// std::pmr::polymorphic_allocator<T>:
// - uses-allocator construction: the trailing-allocator constructors are the ones std::uses_allocator
//   machinery finds, so std::pmr::vector<tensor_buffer<float>> (or any pmr container) hands its
//   resource to every element it constructs, copies or moves in;
// - like every std::pmr container, a plain copy constructor uses the *default* resource
//   (select_on_container_copy_construction); the allocator-extended copy takes the one you give;
// - the allocator never propagates: after a = b or a = std::move(b), `a` keeps its own resource. A move
//   assignment between different resources moves/copies the elements into a's resource and leaves b
//   valid (same shape, elements moved-from: for trivially copyable T, unchanged); between equal
//   resources it steals b's storage and allocates nothing;
// - swap requires equal allocators; unequal ones abort with a message (checked in every build, cheap).
//
// Shape: a tensor_shape holds up to 8 dimensions inline. It is not allocated from the resource: it is
// a few words of metadata, and allocating it would double the allocations per buffer (and every
// allocation_scope count). A rank-0 shape is a scalar with one element (the empty product, as in
// NumPy); a default-constructed buffer has shape {0} and owns no memory.
//
// Alignment: data() is aligned to max(alignof(T), requested), the request defaulting to 64 bytes (a
// cache line, and what AVX-512 loads want). The request must be a power of two, else
// std::invalid_argument. Resources of ours honour alignments up to 4096; larger ones are up to the
// resource. The alignment is part of the buffer's value: copies and assignments take the source's.
//
// Sizes: a shape whose element count, or a count whose byte size, does not fit in size_t throws
// std::bad_array_new_length (a std::bad_alloc), as does a resource that cannot serve the request.
//
// Capacity: resize to fewer elements keeps the storage (capacity()); growing past it reallocates to
// exactly the new size (tensors are resized to a known shape, not appended to); shrink_to_fit() gives
// the slack back.
//
// Elements: T may be any object type. Elements that themselves use a compatible allocator (e.g.
// std::pmr::vector<int>, tensor_buffer<float>) are built with this buffer's resource; others with
// plain construction (trivially copyable T is copied with memcpy). Exception safety: every operation
// that can throw (construction, resize, reshape, copy/move assignment, shrink_to_fit) gives the strong
// guarantee and leaks nothing, whether T's constructor or the resource throws.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <memory_resource>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "allocator/request.h"
#include "pmr/element_storage.h"

namespace allocbench {

// The dimensions of a tensor, stored inline (at most max_rank of them), row-major.
class tensor_shape {
 public:
  static constexpr std::size_t max_rank = 8;

  // Rank 0: a scalar, one element.
  constexpr tensor_shape() noexcept = default;

  tensor_shape(std::initializer_list<std::size_t> dims)
      : tensor_shape(std::span<const std::size_t>(dims.begin(), dims.size())) {}

  // Throws std::invalid_argument for more than max_rank dimensions and std::bad_array_new_length
  // when the element count overflows size_t.
  explicit tensor_shape(std::span<const std::size_t> dims) {
    if (dims.size() > max_rank) [[unlikely]] {
      throw std::invalid_argument("allocbench::tensor_shape: rank " + std::to_string(dims.size()) +
                                  " exceeds the maximum rank " + std::to_string(max_rank));
    }
    std::size_t count = 1;
    for (std::size_t d : dims) {
      if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d) [[unlikely]] {
        throw std::bad_array_new_length();
      }
      count *= d;
    }
    std::copy(dims.begin(), dims.end(), dims_.begin());
    rank_ = dims.size();
    count_ = count;
  }

  // The rank-1 shape {n}.
  static constexpr tensor_shape flat(std::size_t n) noexcept {
    tensor_shape s;
    s.dims_[0] = n;
    s.rank_ = 1;
    s.count_ = n;
    return s;
  }

  constexpr std::size_t rank() const noexcept { return rank_; }
  constexpr std::size_t element_count() const noexcept { return count_; }
  constexpr std::size_t operator[](std::size_t axis) const noexcept { return dims_[axis]; }
  constexpr std::span<const std::size_t> dims() const noexcept { return {dims_.data(), rank_}; }
  constexpr const std::size_t* begin() const noexcept { return dims_.data(); }
  constexpr const std::size_t* end() const noexcept { return dims_.data() + rank_; }

  friend constexpr bool operator==(const tensor_shape& a, const tensor_shape& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::array<std::size_t, max_rank> dims_{};
  std::size_t rank_ = 0;
  std::size_t count_ = 1;
};

// A requested alignment in bytes, e.g. tensor_alignment{4096} for page-aligned buffers.
struct tensor_alignment {
  std::size_t bytes = 64;
};

template <class T>
class tensor_buffer {
  static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                "tensor_buffer<T> needs a non-const, non-volatile object type");

 public:
  using value_type = T;
  using allocator_type = std::pmr::polymorphic_allocator<T>;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;

  static constexpr size_type default_alignment = 64;

  // --- construction ----------------------------------------------------------------------------

  tensor_buffer() noexcept : tensor_buffer(allocator_type()) {}

  explicit tensor_buffer(const allocator_type& alloc) noexcept
      : alloc_(alloc), alignment_(effective_alignment_unchecked(default_alignment)) {}

  // Value-initialised elements (zero for arithmetic T).
  explicit tensor_buffer(const tensor_shape& shape, const allocator_type& alloc = {})
      : tensor_buffer(shape, tensor_alignment{default_alignment}, alloc) {}

  tensor_buffer(const tensor_shape& shape, tensor_alignment alignment, const allocator_type& alloc = {})
      : alloc_(alloc), alignment_(effective_alignment(alignment.bytes)) {
    storage fresh(*this, shape.element_count());
    construct_value_n(fresh.data, shape.element_count());
    adopt(fresh, shape.element_count(), shape);
  }

  tensor_buffer(const tensor_shape& shape, const T& value, const allocator_type& alloc = {})
      : tensor_buffer(shape, value, tensor_alignment{default_alignment}, alloc) {}

  tensor_buffer(const tensor_shape& shape, const T& value, tensor_alignment alignment,
                const allocator_type& alloc = {})
      : alloc_(alloc), alignment_(effective_alignment(alignment.bytes)) {
    storage fresh(*this, shape.element_count());
    construct_fill_n(fresh.data, shape.element_count(), value);
    adopt(fresh, shape.element_count(), shape);
  }

  // A plain copy uses the default resource, as std::pmr containers do.
  tensor_buffer(const tensor_buffer& other)
      : tensor_buffer(other, std::allocator_traits<allocator_type>::select_on_container_copy_construction(
                                 other.alloc_)) {}

  tensor_buffer(const tensor_buffer& other, const allocator_type& alloc)
      : alloc_(alloc), alignment_(other.alignment_) {
    copy_from(other);
  }

  tensor_buffer(tensor_buffer&& other) noexcept : alloc_(other.alloc_), alignment_(other.alignment_) {
    steal(other);
  }

  // Steals when the resources are equal; otherwise moves (or copies, when T's move may throw) each
  // element into `alloc`'s resource, leaving `other` with its shape and moved-from elements.
  tensor_buffer(tensor_buffer&& other, const allocator_type& alloc)
      : alloc_(alloc), alignment_(other.alignment_) {
    if (alloc_ == other.alloc_) {
      steal(other);
    } else {
      move_elements_from(other);
    }
  }

  ~tensor_buffer() { destroy_and_free(); }

  // --- assignment (the allocator never propagates) -------------------------------------------

  tensor_buffer& operator=(const tensor_buffer& other) {
    if (this == &other) return *this;
    if constexpr (std::is_nothrow_copy_constructible_v<T> && !uses_our_allocator) {
      // Cannot throw past this point: reuse the storage when it fits.
      if (other.size_ <= capacity_ && other.alignment_ == alignment_) {
        std::destroy_n(data_, size_);
        size_ = 0;
        std::uninitialized_copy_n(other.data_, other.size_, data_);
        size_ = other.size_;
        shape_ = other.shape_;
        return *this;
      }
    }
    detail::non_propagating::copy_assign(*this, other);
    return *this;
  }

  tensor_buffer& operator=(tensor_buffer&& other) {
    detail::non_propagating::move_assign(*this, other);
    return *this;
  }

  // Precondition: get_allocator() == other.get_allocator() (aborts otherwise).
  void swap(tensor_buffer& other) noexcept {
    detail::non_propagating::swap(*this, other, "tensor_buffer", "swap between buffers with unequal allocators");
  }
  friend void swap(tensor_buffer& a, tensor_buffer& b) noexcept { a.swap(b); }

  allocator_type get_allocator() const noexcept { return alloc_; }

  // --- shape -----------------------------------------------------------------------------------

  const tensor_shape& shape() const noexcept { return shape_; }
  size_type rank() const noexcept { return shape_.rank(); }
  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return capacity_; }
  size_type max_size() const noexcept { return std::numeric_limits<size_type>::max() / sizeof(T); }
  size_type alignment() const noexcept { return alignment_; }

  // Same element count, new dimensions; std::invalid_argument otherwise. Never allocates.
  void reshape(const tensor_shape& shape) {
    if (shape.element_count() != size_) [[unlikely]] {
      throw std::invalid_argument("allocbench::tensor_buffer::reshape: the new shape has " +
                                  std::to_string(shape.element_count()) + " elements, the buffer " +
                                  std::to_string(size_));
    }
    shape_ = shape;
  }

  // Keeps the first min(old, new) elements in flat order; new elements are value-initialised.
  void resize(const tensor_shape& shape) {
    resize_elements(shape.element_count());
    shape_ = shape;
  }
  void resize(size_type count) { resize(tensor_shape::flat(count)); }

  // Gives unused capacity back to the resource.
  void shrink_to_fit() {
    if (capacity_ == size_) return;
    storage fresh(*this, size_);
    relocate_into(fresh.data, *this);
    destroy_and_free();
    adopt(fresh, size_, shape_);
  }

  // --- elements (flat, row-major) --------------------------------------------------------------

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](size_type i) noexcept { return data_[i]; }
  const T& operator[](size_type i) const noexcept { return data_[i]; }
  T& at(size_type i) { return data_[checked(i)]; }
  const T& at(size_type i) const { return data_[checked(i)]; }
  std::span<T> values() noexcept { return {data_, size_}; }
  std::span<const T> values() const noexcept { return {data_, size_}; }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }

  // Same shape and equal elements (the allocator and alignment are not compared).
  friend bool operator==(const tensor_buffer& a, const tensor_buffer& b) {
    return a.shape_ == b.shape_ && std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  // Elements that take our allocator get it through uses-allocator construction.
  static constexpr bool uses_our_allocator = std::uses_allocator_v<T, allocator_type>;

  friend struct detail::non_propagating;

  // Raw storage for `n` elements from our resource, at our alignment, that frees itself unless
  // adopted: the rollback of every constructor and reallocating operation.
  struct storage : detail::element_storage<T> {
    storage(tensor_buffer& owner, size_type n)
        : detail::element_storage<T>(owner.alloc_.resource(), n, owner.alignment_) {}
  };

  static constexpr size_type effective_alignment_unchecked(size_type requested) noexcept {
    return std::max(requested, alignof(T));
  }
  static size_type effective_alignment(size_type requested) {
    detail::validate_alignment(requested);
    return effective_alignment_unchecked(requested);
  }

  // Takes ownership of `fresh` holding `size` constructed elements.
  void adopt(storage& fresh, size_type size, const tensor_shape& shape) noexcept {
    data_ = fresh.release();
    capacity_ = fresh.count;
    size_ = size;
    shape_ = shape;
  }

  void destroy_and_free() noexcept {
    std::destroy_n(data_, size_);
    detail::deallocate_elements(alloc_.resource(), data_, capacity_, alignment_);
  }

  // Precondition: our storage is already released (or never existed); alloc_ equals other's. The
  // alignment is part of the value, so it comes along.
  void steal(tensor_buffer& other) noexcept {
    alignment_ = other.alignment_;
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    shape_ = std::exchange(other.shape_, tensor_shape::flat(0));
  }

  // Swaps everything but the allocator (equal on both sides).
  void swap_storage(tensor_buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    std::swap(alignment_, other.alignment_);
    std::swap(shape_, other.shape_);
  }

  void copy_from(const tensor_buffer& other) {
    storage fresh(*this, other.size_);
    construct_from(fresh.data, other.data_, other.size_);
    adopt(fresh, other.size_, other.shape_);
  }

  // Into our (different) resource: move when that cannot throw, else copy, so that a failure leaves
  // `other` untouched.
  void move_elements_from(tensor_buffer& other) {
    storage fresh(*this, other.size_);
    if constexpr (std::is_nothrow_move_constructible_v<T> && !uses_our_allocator) {
      std::uninitialized_move_n(other.data_, other.size_, fresh.data);
    } else if constexpr (std::is_nothrow_move_constructible_v<T>) {
      construct_from(fresh.data, std::make_move_iterator(other.data_), other.size_);
    } else {
      construct_from(fresh.data, other.data_, other.size_);
    }
    adopt(fresh, other.size_, other.shape_);
  }

  // Moves `from`'s elements (held with our resource) into `dst`. Elements already carry our
  // resource, so a plain move constructor keeps it; when that move may throw we copy instead,
  // with our resource, so that a failure leaves `from` untouched.
  void relocate_into(T* dst, tensor_buffer& from) {
    if constexpr (std::is_nothrow_move_constructible_v<T>) {
      std::uninitialized_move_n(from.data_, from.size_, dst);
    } else {
      construct_from(dst, from.data_, from.size_);
    }
  }

  void resize_elements(size_type n) {
    if (n <= size_) {
      std::destroy(data_ + n, data_ + size_);
      size_ = n;
      return;
    }
    if (n <= capacity_) {
      construct_value_n(data_ + size_, n - size_);
      size_ = n;
      return;
    }
    storage fresh(*this, n);
    construct_value_n(fresh.data + size_, n - size_);  // the new tail first: it may throw
    try {
      relocate_into(fresh.data, *this);
    } catch (...) {
      std::destroy_n(fresh.data + size_, n - size_);
      throw;
    }
    destroy_and_free();
    data_ = fresh.release();
    capacity_ = n;
    size_ = n;
  }

  // Constructs n elements at p, the i-th from *first++ (with our allocator where T takes one);
  // on a throw, destroys what it built and rethrows.
  template <class It>
  void construct_from(T* p, It first, size_type n) {
    if constexpr (uses_our_allocator) {
      size_type done = 0;
      try {
        for (; done < n; ++done, ++first) std::uninitialized_construct_using_allocator(p + done, alloc_, *first);
      } catch (...) {
        std::destroy_n(p, done);
        throw;
      }
    } else {
      std::uninitialized_copy_n(first, n, p);
    }
  }

  void construct_value_n(T* p, size_type n) {
    if constexpr (uses_our_allocator) {
      size_type done = 0;
      try {
        for (; done < n; ++done) std::uninitialized_construct_using_allocator(p + done, alloc_);
      } catch (...) {
        std::destroy_n(p, done);
        throw;
      }
    } else {
      std::uninitialized_value_construct_n(p, n);
    }
  }

  void construct_fill_n(T* p, size_type n, const T& value) {
    if constexpr (uses_our_allocator) {
      size_type done = 0;
      try {
        for (; done < n; ++done) std::uninitialized_construct_using_allocator(p + done, alloc_, value);
      } catch (...) {
        std::destroy_n(p, done);
        throw;
      }
    } else {
      std::uninitialized_fill_n(p, n, value);
    }
  }

  size_type checked(size_type i) const {
    if (i >= size_) [[unlikely]] {
      throw std::out_of_range("allocbench::tensor_buffer::at: index " + std::to_string(i) +
                              " >= size " + std::to_string(size_));
    }
    return i;
  }

  allocator_type alloc_;
  T* data_ = nullptr;
  size_type size_ = 0;
  size_type capacity_ = 0;
  size_type alignment_;
  tensor_shape shape_ = tensor_shape::flat(0);
};

}  // namespace allocbench
