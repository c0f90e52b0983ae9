// False sharing of small blocks between threads, in the two shapes of the Hoard paper:
//   active:  each thread allocates a small block, writes it many times, frees it, again and again; an
//            allocator that gives two threads blocks in one cache line makes their writes fight.
//   passive: the main thread allocates one small block per thread (likely neighbours in one line) and
//            hands them out; each thread frees its block first, then works as in active, so an
//            allocator that reuses a freed block for the thread that freed it inherits the sharing.
//
//   false_sharing --mode=active|passive --threads=4 --rounds=2000 --writes=2000 --size=8 --seed=1
//
// The writes go through a volatile pointer, so they reach memory; the checksum is the blocks' final
// contents, which depend only on the arguments.
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/stress/stress_common.h"

namespace {

using namespace allocbench::stress;

std::uint64_t work(std::size_t rounds, std::size_t writes, std::size_t size, rng r) {
  std::uint64_t sum = 0;
  for (std::size_t round = 0; round < rounds; ++round) {
    volatile unsigned char* p = static_cast<unsigned char*>(std::malloc(size));
    if (p == nullptr) std::exit(4);
    const unsigned char start = static_cast<unsigned char>(r.next());
    for (std::size_t i = 0; i < size; ++i) p[i] = start;
    for (std::size_t w = 0; w < writes; ++w) p[w % size] = static_cast<unsigned char>(p[w % size] + 1);
    for (std::size_t i = 0; i < size; ++i) sum = sum * 131 + p[i];
    std::free(const_cast<unsigned char*>(p));
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "active";
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--mode=", 7) == 0) mode = argv[i] + 7;
    else rest.push_back(argv[i]);
  }
  if (mode != "active" && mode != "passive") {
    std::fprintf(stderr, "false_sharing: --mode must be active or passive, got '%s'\n", mode.c_str());
    return 2;
  }
  const int n = static_cast<int>(rest.size());
  const options o(n, rest.data(), {{"threads", 4}, {"rounds", 2000}, {"writes", 2000}, {"size", 8}, {"seed", 1}});
  const std::size_t threads = o["threads"], rounds = o["rounds"], writes = o["writes"], size = o["size"];
  const std::size_t seed = o["seed"];
  std::vector<unsigned char*> given(threads, nullptr);
  if (mode == "passive") {
    for (std::size_t t = 0; t < threads; ++t) {
      given[t] = static_cast<unsigned char*>(std::malloc(size));
      if (given[t] == nullptr) return 4;
      fill_block(given[t], size, t);
    }
  }
  std::vector<std::uint64_t> sums(threads, 0);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      if (given[t] != nullptr) {
        sums[t] = check_block(given[t], size, t, "false_sharing");
        std::free(given[t]);
      }
      sums[t] += work(rounds, writes, size, rng(seed, t));
    });
  }
  for (std::thread& w : workers) w.join();
  std::uint64_t total = 0;
  for (std::uint64_t s : sums) total = total * 31 + s;
  print_checksum(mode == "active" ? "false_sharing active" : "false_sharing passive", total);
  return 0;
}
