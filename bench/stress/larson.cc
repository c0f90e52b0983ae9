// Larson's server pattern: each thread owns an array of live blocks and replaces random ones (free,
// then allocate a new size); after every round the arrays move on to the next thread, so from then on
// each thread frees blocks that another thread allocated. Before the first round the main thread
// fills every array, so the first frees are of its blocks.
//
//   larson --threads=4 --rounds=20 --slots=2000 --ops=20000 --min=8 --max=512 --seed=1
//
// The checksum depends only on the arguments: a round's work on an array draws from a generator
// seeded by (seed, round, array), whichever thread does it.
#include <barrier>
#include <thread>
#include <vector>

#include "bench/stress/stress_common.h"

namespace {

using namespace allocbench::stress;

struct slot {
  unsigned char* block = nullptr;
  std::size_t size = 0;
  std::uint64_t tag = 0;
};

struct params {
  std::size_t threads, rounds, slots, ops, min, max, seed;
};

void replace(slot& s, rng& r, const params& p, std::uint64_t& sum) {
  if (s.block != nullptr) {
    sum += check_block(s.block, s.size, s.tag, "larson");
    std::free(s.block);
  }
  s.size = r.between(p.min, p.max);
  s.tag = r.next();
  s.block = static_cast<unsigned char*>(std::malloc(s.size));
  if (s.block == nullptr) {
    std::fprintf(stderr, "larson: malloc(%zu) failed\n", s.size);
    std::exit(4);
  }
  fill_block(s.block, s.size, s.tag);
}

}  // namespace

int main(int argc, char** argv) {
  const options o(argc, argv, {{"min", 8}, {"max", 512}, {"threads", 4}, {"rounds", 20}, {"slots", 2000},
                               {"ops", 20000}, {"seed", 1}});
  const params p{o["threads"], o["rounds"], o["slots"], o["ops"], o["min"], o["max"], o["seed"]};
  std::vector<std::vector<slot>> arrays(p.threads, std::vector<slot>(p.slots));
  std::vector<std::uint64_t> sums(p.threads, 0);  // one per array, so the total is order-free
  for (std::size_t a = 0; a < p.threads; ++a) {
    rng r(p.seed, a);
    for (slot& s : arrays[a]) replace(s, r, p, sums[a]);
  }
  std::barrier round_end(static_cast<std::ptrdiff_t>(p.threads));
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < p.threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t round = 0; round < p.rounds; ++round) {
        const std::size_t a = (t + round) % p.threads;  // this round's array: the previous thread's last round
        rng r(p.seed, (round + 1) * p.threads + a);
        for (std::size_t i = 0; i < p.ops; ++i) replace(arrays[a][r.next() % p.slots], r, p, sums[a]);
        round_end.arrive_and_wait();
      }
    });
  }
  for (std::thread& w : workers) w.join();
  std::uint64_t total = 0;
  for (std::size_t a = 0; a < p.threads; ++a) {
    for (slot& s : arrays[a]) {
      sums[a] += check_block(s.block, s.size, s.tag, "larson");
      std::free(s.block);
    }
    total = total * 31 + sums[a];
  }
  print_checksum("larson", total);
  return 0;
}
