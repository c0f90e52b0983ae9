#include "malloc/span_source.h"

#include <bit>
#include <new>

#include "malloc/os_pages.h"

namespace allocbench::malloc_detail {

namespace {

// A span as span_arena asks for one (a power of two aligned to at most itself) comes from the pool;
// anything else is a mapping of its own.
bool from_pool(std::size_t n, std::size_t alignment) noexcept {
  return std::has_single_bit(n) && alignment <= n;
}

}  // namespace

void* span_source::do_allocate(std::size_t bytes, std::size_t alignment) {
  const std::size_t n = page_round(bytes);
  if (n == 0) throw std::bad_alloc();
  const bool pooled = from_pool(n, alignment);
  void* p = pooled ? spans_->get(n) : map_pages(n, alignment);
  if (p == nullptr) throw std::bad_alloc();
  if (!pages_->set(p, n, code_)) {
    if (pooled) spans_->put(p, n); else unmap_pages(p, n);
    throw std::bad_alloc();
  }
  return p;
}

void span_source::do_deallocate(void* p, std::size_t bytes, std::size_t alignment) {
  const std::size_t n = page_round(bytes);
  pages_->clear(p, n);  // before the span is reused: another class may get the address at once
  if (from_pool(n, alignment)) spans_->put(p, n); else unmap_pages(p, n);
}

void* page_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  const std::size_t n = page_round(bytes);
  void* p = n == 0 ? nullptr : map_pages(n, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void page_resource::do_deallocate(void* p, std::size_t bytes, std::size_t /*alignment*/) {
  unmap_pages(p, page_round(bytes));
}

}  // namespace allocbench::malloc_detail
