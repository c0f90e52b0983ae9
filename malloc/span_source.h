// span_source: where one size class's spans come from in the malloc front end. Each span comes from
// the process's span_pages (carved from reserved regions, reused when given back, its pages released
// to the kernel past a small resident allowance), aligned as the engine asks (span_arena: to its
// size), and every page of it is set
// in the page map to the class's block size before the engine sees it, and unset before it goes
// back: that entry is how free(p) learns p's size (page_map.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>

#include "malloc/page_map.h"
#include "malloc/span_pages.h"

namespace allocbench::malloc_detail {

class span_source final : public std::pmr::memory_resource {
 public:
  // `block_bytes`: the class's block size, what the pages of its spans record.
  span_source(page_map& pages, span_pages& spans, std::uint64_t block_bytes) noexcept
      : pages_(&pages), spans_(&spans), code_(block_bytes) {}

 private:
  // std::bad_alloc, with nothing mapped or set, when the kernel refuses (the engine expects a throw).
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  page_map* pages_;
  span_pages* spans_;
  std::uint64_t code_;
};

// The engine's general upstream: plain mappings, nothing recorded. The front end sends it nothing
// (every class has a span_source, and large requests never reach the engine), but the heap needs one.
class page_resource final : public std::pmr::memory_resource {
 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

}  // namespace allocbench::malloc_detail
