// What allocbench's containers (tensor_buffer, replay_ring) share about their memory: raw storage for
// n elements taken from and given back to a std::pmr::memory_resource with the same checks, and the
// assignment and swap of a container whose allocator never propagates. One copy, so that the two
// containers cannot drift apart in what they ask of a resource or when they abort.
#pragma once

#include <cstddef>
#include <limits>
#include <memory_resource>
#include <new>
#include <utility>

#include "pmr/container_precondition.h"

namespace allocbench::detail {

// n elements of T, aligned to `alignment`, from `resource`; nullptr for n == 0 (the resource is not
// asked). A count whose byte size does not fit in size_t throws std::bad_array_new_length before the
// resource sees it (n * sizeof(T) would wrap to a small request).
template <class T>
T* allocate_elements(std::pmr::memory_resource* resource, std::size_t n, std::size_t alignment) {
  if (n == 0) return nullptr;
  if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) [[unlikely]] throw std::bad_array_new_length();
  return static_cast<T*>(resource->allocate(n * sizeof(T), alignment));
}

// Gives back what allocate_elements<T>(resource, n, alignment) returned (nullptr is a no-op).
template <class T>
void deallocate_elements(std::pmr::memory_resource* resource, T* p, std::size_t n, std::size_t alignment) noexcept {
  if (p != nullptr) resource->deallocate(p, n * sizeof(T), alignment);
}

// Raw storage for `count` elements that frees itself unless taken (release()): the rollback of every
// constructor and reallocating operation of a container. Holds no constructed element: whoever builds
// elements in it destroys them on its own failure path before this frees the memory.
template <class T>
class element_storage {
 public:
  element_storage(std::pmr::memory_resource* resource, std::size_t n, std::size_t alignment)
      : count(n), data(allocate_elements<T>(resource, n, alignment)), resource_(resource), alignment_(alignment) {}
  ~element_storage() { deallocate_elements(resource_, data, count, alignment_); }
  element_storage(const element_storage&) = delete;
  element_storage& operator=(const element_storage&) = delete;

  // Hands the memory to the caller, who now frees it.
  T* release() noexcept { return std::exchange(data, nullptr); }

  const std::size_t count;
  T* data;  // nullptr once released

 private:
  std::pmr::memory_resource* resource_;
  std::size_t alignment_;
};

// Assignment and swap of a container C whose allocator never propagates. C befriends this struct and
// has: get_allocator(); the allocator-extended move constructor C(C&&, allocator); destroy_and_free()
// (destroy every element, free the storage); steal(other) (take other's storage, leaving it empty;
// precondition: ours is released and the allocators are equal); swap_storage(other) (swap everything
// but the allocator).
struct non_propagating {
  // Copy assignment by copy-and-swap: a copy built in self's resource, then swapped in, so that a
  // throw leaves self unchanged.
  template <class C>
  static void copy_assign(C& self, const C& other) {
    C copy(other, self.get_allocator());
    self.swap_storage(copy);
  }

  // Equal resources: steal other's storage (allocates nothing). Different ones: build the elements in
  // self's resource (C's extended move constructor), then swap that in; other stays valid.
  template <class C>
  static void move_assign(C& self, C& other) {
    if (&self == &other) return;
    if (self.get_allocator() == other.get_allocator()) {
      self.destroy_and_free();
      self.steal(other);
    } else {
      C moved(std::move(other), self.get_allocator());
      self.swap_storage(moved);
    }
  }

  // Swap between unequal allocators is undefined in the standard: abort with `container`'s message
  // rather than free memory into the wrong resource later.
  template <class C>
  static void swap(C& a, C& b, const char* container, const char* what) noexcept {
    if (!(a.get_allocator() == b.get_allocator())) [[unlikely]] container_precondition_failed(container, what);
    a.swap_storage(b);
  }
};

}  // namespace allocbench::detail
