#include "malloc/span_source.h"

#include <new>

#include "malloc/os_pages.h"

namespace allocbench::malloc_detail {

void* span_source::do_allocate(std::size_t bytes, std::size_t alignment) {
  const std::size_t n = page_round(bytes);
  void* p = n == 0 ? nullptr : map_pages(n, alignment);
  if (p == nullptr) throw std::bad_alloc();
  if (!pages_->set(p, n, code_)) {
    unmap_pages(p, n);
    throw std::bad_alloc();
  }
  return p;
}

void span_source::do_deallocate(void* p, std::size_t bytes, std::size_t /*alignment*/) {
  const std::size_t n = page_round(bytes);
  pages_->clear(p, n);  // before the pages go: another mapping may get the address at once
  unmap_pages(p, n);
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
