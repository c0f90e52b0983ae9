// A program that uses AllocatorBench as a user would: the `scalable` preset behind a std::pmr::vector
// and a std::pmr::map, on the main thread and on a second one (each gets its own thread cache), and a
// check that stats() counted every block and that all came back. Exits 0 when all holds.
// The one source of all three examples: examples/cmake_consumer and examples/pkgconfig_consumer build
// this file too (this one lives here because a Bazel workspace sees only files below it).
#include <cstdio>
#include <map>
#include <memory_resource>
#include <thread>
#include <vector>

#include "pmr/presets.h"
#include "pmr/version.h"

namespace {

void fill(std::pmr::memory_resource* pool) {
  std::pmr::vector<int> numbers(pool);
  for (int i = 0; i < 1000; ++i) numbers.push_back(i);
  std::pmr::map<int, std::pmr::vector<int>> groups(pool);
  for (int i = 0; i < 100; ++i) groups[i % 10].push_back(numbers[i]);
}

bool check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "consumer: %s\n", what);
  return ok;
}

}  // namespace

int main() {
  auto pool = allocbench::make_preset("scalable");
  fill(pool.get());
  std::thread other(fill, pool.get());
  other.join();

  const allocbench::resource_stats s = pool->stats();
  bool ok = check(s.allocations >= 2 * (10 + 10), "too few allocations counted");
  ok = check(s.deallocations == s.allocations, "not every block was freed") && ok;
  ok = check(s.live_blocks == 0 && s.live_bytes == 0, "live blocks left") && ok;
  ok = check(s.peak_live_bytes >= 1000 * sizeof(int), "peak below the vector's size") && ok;
  if (ok) std::printf("allocbench %s: %llu allocations, peak %llu bytes\n", ALLOCBENCH_VERSION,
                      static_cast<unsigned long long>(s.allocations),
                      static_cast<unsigned long long>(s.peak_live_bytes));
  return ok ? 0 : 1;
}
