// Checked mode: detection of bad frees and of writes where a program must not write.
//
// Each resource takes a `checked` option. Its default is checked_by_default(): on in builds that
// define ALLOCBENCH_CHECKED=1 (--config=debug, asan and ubsan), off otherwise. It is decided once, in
// invalid_free.cc, so that every translation unit of a program agrees on it.
//
// A checked resource records every block it hands out (allocator/checked_registry.h; scalable's small
// blocks carry a header instead, allocator/checked_header.h) and detects:
// - foreign_pointer: a free of something it never handed out (or that left quarantine long ago);
// - double_free: a second free while the block waits in quarantine, so also when the program has
//   allocated meanwhile (a freed block is not reused until it leaves quarantine);
// - size_mismatch: a free with another size or alignment than the allocation's;
// - overflow: the canary after the requested end was overwritten (checked at free);
// - write_after_free: the fill pattern of a quarantined block was overwritten (checked when the block
//   leaves quarantine to be reused; only its first 4 KiB).
// Each calls the handler below. For the first three the free is ignored (the resource is unchanged);
// after an overflow report the free is carried out when the handler returns; a write_after_free is
// reported once the block has gone back to its engine. A handler that throws leaves the resource as
// it was at the report. The default handler prints the report to stderr and aborts, as tcmalloc and
// mimalloc do.
#pragma once

#include <cstddef>
#include <string_view>

namespace allocbench {

// True when this build makes resources checked unless told otherwise (ALLOCBENCH_CHECKED=1).
bool checked_by_default() noexcept;

enum class invalid_free_kind {
  double_free,       // the block was already free
  foreign_pointer,   // the pointer was never handed out by this resource
  size_mismatch,     // the size or alignment differs from the allocation's
  overflow,          // a write past the requested end (the canary changed)
  write_after_free,  // a write into a freed block (the fill pattern changed)
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

// Installs a process-wide handler and returns the previous one. A handler may return, throw (the
// exception leaves deallocate) or abort; see above for what the resource does in each case.
invalid_free_handler set_invalid_free_handler(invalid_free_handler handler) noexcept;

// Calls the installed handler.
void report_invalid_free(const invalid_free_report& report);

}  // namespace allocbench
