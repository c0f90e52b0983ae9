// See BUILD.bazel. Prints numbers; asserts nothing.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pmr/presets.h"

namespace {

std::unique_ptr<std::pmr::memory_resource> make(const std::string& name) {
  if (name == "new_delete") return nullptr;
  return allocbench::make_preset(name);
}

std::pmr::memory_resource* get(const std::unique_ptr<std::pmr::memory_resource>& owned) {
  return owned ? owned.get() : std::pmr::new_delete_resource();
}

// The origin report's loop, shaped like rl_small: allocate while below the live cap and a draw says
// so, else free a random live block. Sizes 16..512 with rl_small's weights, alignment 16. The draws
// are made before the clock starts, so that the timed loop measures the resource.
struct trace {
  std::vector<std::uint32_t> size;
  std::vector<bool> allocate;
  std::vector<std::uint32_t> victim;
};

trace make_trace(unsigned seed, std::size_t ops) {
  static const std::size_t sizes[] = {16, 32, 64, 128, 256, 512};
  static const double weights[] = {.25, .25, .20, .15, .10, .05};
  std::mt19937_64 rng(seed);
  std::discrete_distribution<int> pick(std::begin(weights), std::end(weights));
  std::uniform_real_distribution<double> coin(0, 1);
  trace t;
  for (std::size_t i = 0; i < ops; ++i) {
    t.size.push_back(std::uint32_t(sizes[pick(rng)]));
    t.allocate.push_back(coin(rng) < 0.65);
    t.victim.push_back(std::uint32_t(rng()));
  }
  return t;
}

std::size_t run_trace(std::pmr::memory_resource* r, const trace& t) {
  struct item { void* p; std::size_t n; };
  std::vector<item> live;
  live.reserve(4096);
  const std::size_t ops = t.size.size();
  for (std::size_t i = 0; i < ops; ++i) {
    if (live.empty() || (live.size() < 4096 && t.allocate[i])) {
      void* p = r->allocate(t.size[i], 16);
      std::memset(p, 1, 8);
      live.push_back({p, t.size[i]});
    } else {
      const std::size_t k = t.victim[i] % live.size();
      r->deallocate(live[k].p, live[k].n, 16);
      live[k] = live.back();
      live.pop_back();
    }
  }
  for (item& it : live) r->deallocate(it.p, it.n, 16);
  return ops + live.size();
}

double ops_per_second(const std::string& name, unsigned threads, const std::vector<trace>& traces) {
  auto owned = make(name);
  std::pmr::memory_resource* r = get(owned);
  run_trace(r, traces[0]);  // warm up: spans and caches exist before the clock starts
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::vector<std::size_t> counts(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] { counts[t] = run_trace(r, traces[t]); });
  }
  for (auto& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::size_t total = 0;
  for (std::size_t c : counts) total += c;
  return double(total) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "throughput";
  if (mode == "pairs") {
    const std::string name = argc > 2 ? argv[2] : "scalable";
    const long n = argc > 3 ? std::atol(argv[3]) : 1000000;
    auto owned = make(name);
    std::pmr::memory_resource* r = get(owned);
    for (long i = 0; i < n; ++i) {
      void* p = r->allocate(64, 16);
      r->deallocate(p, 64, 16);
    }
    std::printf("%ld pairs of 64 B on %s\n", n, name.c_str());
    return 0;
  }
  const std::size_t ops = argc > 2 ? std::size_t(std::atol(argv[2])) : 2000000;
  const std::vector<trace> traces = {make_trace(1, ops), make_trace(2, ops)};
  for (const char* name : {"scalable", "seed_baseline", "new_delete"}) {
    for (unsigned threads : {1u, 2u}) {
      double best = 0;
      for (int rep = 0; rep < 3; ++rep) {
        const double v = ops_per_second(name, threads, traces);
        if (v > best) best = v;
      }
      std::printf("%-14s threads=%u  %8.1f M ops/s (best of 3)\n", name, threads, best / 1e6);
    }
  }
  return 0;
}
