#include "allocator/invalid_free.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

// Decided here, in one translation unit, so that no two parts of a program can disagree.
#ifndef ALLOCBENCH_CHECKED
#define ALLOCBENCH_CHECKED 0
#endif

namespace allocbench {
namespace {

void print_and_abort(const invalid_free_report& r) {
  const std::string_view kind = to_string(r.kind);
  std::fprintf(stderr, "allocbench: checked mode: %.*s at %p, %zu bytes, alignment %zu, in %.*s\n",
               int(kind.size()), kind.data(), r.pointer, r.bytes, r.alignment,
               int(r.resource.size()), r.resource.data());
  std::abort();
}

std::atomic<invalid_free_handler> g_handler{&print_and_abort};

}  // namespace

bool checked_by_default() noexcept { return ALLOCBENCH_CHECKED != 0; }

std::string_view to_string(invalid_free_kind kind) noexcept {
  switch (kind) {
    case invalid_free_kind::double_free: return "double free";
    case invalid_free_kind::foreign_pointer: return "foreign pointer";
    case invalid_free_kind::size_mismatch: return "size or alignment mismatch";
    case invalid_free_kind::overflow: return "write past the requested end";
    case invalid_free_kind::write_after_free: return "write after free";
  }
  return "unknown";
}

invalid_free_handler set_invalid_free_handler(invalid_free_handler handler) noexcept {
  return g_handler.exchange(handler ? handler : &print_and_abort);
}

void report_invalid_free(const invalid_free_report& report) { g_handler.load()(report); }

}  // namespace allocbench
