// The allocators //bench:programs runs each program under, each a shared library given to the child
// by LD_PRELOAD (glibc: none). Peers are Debian's libraries; ours is //malloc:libscalable_malloc.so
// from the runfiles. A library that is not there is skipped with the reason, not an error.
#pragma once

#include <string>
#include <vector>

namespace allocbench::bench::programs {

struct preload_allocator {
  std::string name;     // "glibc", "jemalloc", ...
  std::string library;  // the LD_PRELOAD value; "" for glibc
  std::string skipped;  // why it cannot run ("" when it can)
};

// glibc, jemalloc, tcmalloc (gperftools' tcmalloc_minimal), mimalloc, tbb (TBB's malloc proxy) and
// ours, in that order; `ours_library` is where ours would be ("" when not built into the runfiles).
std::vector<preload_allocator> default_allocators(const std::string& ours_library);

// Applies --preload=NAME=PATH flags (each replaces the allocator NAME or adds one after the others),
// keeps only `selected` when it is non-empty (glibc always: it is the reference), and marks those whose
// library file is missing as skipped. Throws std::invalid_argument for a malformed flag, the name
// glibc, or a selected name that is unknown (the message lists the known ones).
std::vector<preload_allocator> choose_allocators(std::vector<preload_allocator> allocators,
                                                 const std::vector<std::string>& preload_flags,
                                                 const std::vector<std::string>& selected);

}  // namespace allocbench::bench::programs
