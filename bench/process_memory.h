// Peak resident set size of this process. Linux lets a process reset its peak (writing 5 to
// /proc/self/clear_refs), so each run gets its own peak where the kernel allows it.
#pragma once

#include <cstdint>

namespace allocbench::bench {

// Resets VmHWM to the current RSS; false when the kernel refuses (the peak is then process-wide).
bool reset_peak_rss();

// VmHWM from /proc/self/status, in KiB; falls back to getrusage's ru_maxrss.
std::uint64_t peak_rss_kib();

}  // namespace allocbench::bench
