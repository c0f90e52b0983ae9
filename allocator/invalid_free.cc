#include "allocator/invalid_free.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace allocbench {
namespace {

void print_and_abort(const invalid_free_report& r) {
  const std::string_view kind = to_string(r.kind);
  std::fprintf(stderr, "allocbench: invalid free (%.*s) of %p, %zu bytes, alignment %zu, in %.*s\n",
               int(kind.size()), kind.data(), r.pointer, r.bytes, r.alignment,
               int(r.resource.size()), r.resource.data());
  std::abort();
}

std::atomic<invalid_free_handler> g_handler{&print_and_abort};

}  // namespace

std::string_view to_string(invalid_free_kind kind) noexcept {
  switch (kind) {
    case invalid_free_kind::double_free: return "double free";
    case invalid_free_kind::foreign_pointer: return "foreign pointer";
    case invalid_free_kind::size_mismatch: return "size or alignment mismatch";
  }
  return "unknown";
}

invalid_free_handler set_invalid_free_handler(invalid_free_handler handler) noexcept {
  return g_handler.exchange(handler ? handler : &print_and_abort);
}

void report_invalid_free(const invalid_free_report& report) { g_handler.load()(report); }

}  // namespace allocbench
