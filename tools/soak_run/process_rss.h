// Resident set size of this process right now, from /proc/self/statm (0 where it cannot be read).
#pragma once

#include <cstdint>
#include <cstdio>
#include <unistd.h>

namespace allocbench::soak {

inline std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * std::uint64_t(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace allocbench::soak
