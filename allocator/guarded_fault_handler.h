// The SIGSEGV/SIGBUS handler that reports faults in guarded blocks (allocator/guarded_pages.h).
//
// A fixed table of instances (atomic pointers; no locks, no malloc) is all the handler reads, so it is
// async-signal-safe. The handler is installed once, on the first registration, and remembers the
// previous disposition: a fault in no registered instance goes to it unchanged; a fault in one is
// reported with write(2) to stderr, the previous disposition is restored and the handler returns, so
// that the faulting instruction faults again under that disposition (by default: death by the signal).
#pragma once

namespace allocbench::detail {

class guarded_pages;

inline constexpr int kMaxGuardedInstances = 64;

// Adds an instance to the table (installing the handler the first time); false when the table is
// full (the instance still guards, but its faults get no report).
bool register_guarded_pages(const guarded_pages* instance) noexcept;
// Removes it; after this returns the handler no longer reads the instance.
void unregister_guarded_pages(const guarded_pages* instance) noexcept;

}  // namespace allocbench::detail
