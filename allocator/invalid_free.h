// Checked mode: detection of frees that do not match a live block of the resource.
//
// Each resource takes a `checked` option (default kCheckedByDefault: on in --config=debug, asan and
// ubsan builds, which define ALLOCBENCH_CHECKED). A checked resource verifies on every deallocate that
// the pointer is a live block it handed out, with the size and alignment it was allocated with. A bad
// free calls the invalid-free handler and then leaves the resource untouched (the free is ignored).
// The default handler prints the report to stderr and aborts, as tcmalloc and mimalloc do.
#pragma once

#include <cstddef>
#include <string_view>

#ifndef ALLOCBENCH_CHECKED
#ifdef NDEBUG
#define ALLOCBENCH_CHECKED 0
#else
#define ALLOCBENCH_CHECKED 1
#endif
#endif

namespace allocbench {

inline constexpr bool kCheckedByDefault = ALLOCBENCH_CHECKED != 0;

enum class invalid_free_kind {
  double_free,      // the block was already free
  foreign_pointer,  // the pointer was never handed out by this resource
  size_mismatch,    // the size or alignment differs from the allocation's
};

std::string_view to_string(invalid_free_kind kind) noexcept;

struct invalid_free_report {
  invalid_free_kind kind;
  const void* pointer;
  std::size_t bytes;
  std::size_t alignment;
  std::string_view resource;  // the resource's kind, e.g. "fixed_slab"
};

using invalid_free_handler = void (*)(const invalid_free_report&);

// Installs a process-wide handler and returns the previous one. A handler may return (the free is
// then ignored), throw (the exception leaves deallocate; the resource is unchanged) or abort.
invalid_free_handler set_invalid_free_handler(invalid_free_handler handler) noexcept;

// Calls the installed handler.
void report_invalid_free(const invalid_free_report& report);

}  // namespace allocbench
