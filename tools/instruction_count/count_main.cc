// Usage: <binary> <resource> <pairs>
// Warms the path, then runs <pairs> pairs of allocate(64, 16)+deallocate(64, 16). Under callgrind the
// count script runs this twice with different <pairs> and divides the difference of the totals by the
// difference of the pair counts, so start-up, warm-up and exit cancel out.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/instruction_count/pair_loop.h"
#include "tools/instruction_count/resource_factory.h"

namespace {
// Enough pairs that every lazily built piece (thread cache, span, pool chunk) exists before counting.
constexpr long kWarmupPairs = 4096;
}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <resource> <pairs>\n", argv[0]);
    return 2;
  }
  const std::string name = argv[1];
  const long pairs = std::atol(argv[2]);
  auto owned = allocbench::instruction_count::make_resource(name);
  if (owned.resource == nullptr) {
    std::fprintf(stderr, "%s: unknown resource %s\n", argv[0], name.c_str());
    return 2;
  }
  allocbench::instruction_count::run_pairs(owned.resource, kWarmupPairs);
  allocbench::instruction_count::run_pairs(owned.resource, pairs);
  return 0;
}
