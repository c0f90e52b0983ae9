// Threads created and destroyed while they allocate: waves of short-lived threads, each of which
// frees what a thread of the previous wave left behind, allocates a batch, frees half of it at once
// and leaves the rest to the next wave. An allocator's per-thread caches are thus born and torn down
// again and again, with blocks outliving the thread that allocated them.
//
//   thread_churn --waves=60 --threads=4 --blocks=3000 --min=8 --max=2048 --seed=1
//
// Thread t of wave w draws from (seed, w, t) and leaves its blocks in handoff slot t; thread t of the
// next wave takes slot (t + 1) % threads. Waves are joined one after another, so the checksum depends
// only on the arguments.
#include <thread>
#include <vector>

#include "bench/stress/stress_common.h"

namespace {

using namespace allocbench::stress;

struct block {
  unsigned char* p;
  std::size_t size;
  std::uint64_t tag;
};

}  // namespace

int main(int argc, char** argv) {
  const options o(argc, argv, {{"waves", 60}, {"threads", 4}, {"blocks", 3000}, {"seed", 1}, {"min", 8}, {"max", 2048}});
  const std::size_t waves = o["waves"], threads = o["threads"], blocks = o["blocks"], seed = o["seed"];
  const std::size_t min = o["min"], max = o["max"];
  std::vector<std::vector<block>> handoff(threads), next(threads);
  std::vector<std::uint64_t> sums(threads, 0);  // per handoff slot of the wave that consumes it
  for (std::size_t w = 0; w < waves; ++w) {
    std::vector<std::thread> wave;
    for (std::size_t t = 0; t < threads; ++t) {
      wave.emplace_back([&, t] {
        std::uint64_t sum = 0;
        for (const block& b : handoff[(t + 1) % threads]) {
          sum += check_block(b.p, b.size, b.tag, "thread_churn");
          std::free(b.p);
        }
        rng r(seed, w * threads + t);
        std::vector<block> mine;
        mine.reserve(blocks);
        for (std::size_t i = 0; i < blocks; ++i) {
          block b{nullptr, r.between(min, max), r.next()};
          b.p = static_cast<unsigned char*>(std::malloc(b.size));
          if (b.p == nullptr) std::exit(4);
          fill_block(b.p, b.size, b.tag);
          mine.push_back(b);
        }
        // Free a random half now (swap with the last), keep the rest for the next wave.
        for (std::size_t i = 0; i < blocks / 2; ++i) {
          const std::size_t k = r.next() % mine.size();
          sum += check_block(mine[k].p, mine[k].size, mine[k].tag, "thread_churn");
          std::free(mine[k].p);
          mine[k] = mine.back();
          mine.pop_back();
        }
        next[t] = std::move(mine);
        sums[t] = sums[t] * 31 + sum;
      });
    }
    for (std::thread& th : wave) th.join();
    handoff.swap(next);
  }
  std::uint64_t total = 0;
  for (std::size_t t = 0; t < threads; ++t) {
    for (const block& b : handoff[t]) {
      total += check_block(b.p, b.size, b.tag, "thread_churn");
      std::free(b.p);
    }
    total = total * 31 + sums[t];
  }
  print_checksum("thread_churn", total);
  return 0;
}
