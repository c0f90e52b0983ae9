// The recorder's overhead benchmark (README, "Record and replay"): an allocation-heavy program run
// with and without the preloaded recorder.
//
//   overhead_bench THREADS OPS_PER_THREAD
//
// Each thread keeps 2048 live blocks of 16..1024 bytes, and per operation frees one at random and
// allocates another (malloc, or operator new for one in four), writing its first bytes, with a
// little work (a hash of the block) between calls, as a program that uses its memory does.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

namespace {

std::uint64_t run(unsigned seed, long ops) {
  constexpr int kLive = 2048;
  std::vector<void*> live(kLive, nullptr);
  std::vector<std::size_t> sizes(kLive, 0);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1, hash = 0;
  for (long i = 0; i < ops; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const int slot = int(x % kLive);
    if (live[slot] != nullptr) {
      if (slot % 4 == 0) ::operator delete(live[slot], sizes[slot]);
      else std::free(live[slot]);
    }
    const std::size_t size = 16 + (x >> 20) % 1009;
    void* p = slot % 4 == 0 ? ::operator new(size) : std::malloc(size);
    std::memset(p, int(i), size < 64 ? size : 64);
    for (std::size_t k = 0; k < (size < 64 ? size : 64); k += 8) hash = hash * 31 + static_cast<unsigned char*>(p)[k];
    live[slot] = p;
    sizes[slot] = size;
  }
  for (int s = 0; s < kLive; ++s) {
    if (live[s] == nullptr) continue;
    if (s % 4 == 0) ::operator delete(live[s], sizes[s]);
    else std::free(live[s]);
  }
  return hash;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const long ops = argc > 2 ? std::atol(argv[2]) : 2000000;
  std::vector<std::thread> pool;
  std::vector<std::uint64_t> out(std::size_t(threads), 0);
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { out[std::size_t(t)] = run(unsigned(t + 1), ops); });
  for (std::thread& t : pool) t.join();
  std::uint64_t h = 0;
  for (std::uint64_t v : out) h ^= v;
  std::printf("%llu\n", static_cast<unsigned long long>(h));
  return 0;
}
