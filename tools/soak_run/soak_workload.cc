#include "tools/soak_run/soak_workload.h"

#include <cstring>
#include <map>
#include <random>
#include <string>

namespace allocbench::soak {
namespace {

constexpr std::size_t kLiveCap = 512;
constexpr std::size_t kMailboxCap = 256;  // past this a worker frees locally: live bytes stay bounded
constexpr std::size_t kMapCap = 64;
constexpr std::uint64_t kPublishEvery = 4096;

std::size_t draw_size(std::mt19937_64& rng) {
  const unsigned bucket = rng() % 1000;
  if (bucket < 700) return 16 + rng() % 241;             // 16-256 B
  if (bucket < 920) return 257 + rng() % (4096 - 256);   // up to 4 KiB
  if (bucket < 990) return 4097 + rng() % (32768 - 4096);  // up to the largest size class
  return 32769 + rng() % (256 * 1024 - 32768);            // past it: straight to upstream
}

}  // namespace

soak_workload::soak_workload(std::pmr::memory_resource& r, int slots, std::uint64_t seed,
                             std::uint64_t worker_ops)
    : r_(r), slots_(slots), worker_ops_(worker_ops) {
  for (int i = 0; i < slots; ++i) mailboxes_.push_back(std::make_unique<mailbox>());
  for (int i = 0; i < slots; ++i) slot_threads_.emplace_back([this, i, seed] { run_slot(i, seed * 7919 + i); });
}

soak_workload::~soak_workload() { stop(); }

workload_counts soak_workload::counts() const {
  return {operations_.load(std::memory_order_relaxed), cross_thread_frees_.load(std::memory_order_relaxed),
          threads_started_.load(std::memory_order_relaxed)};
}

void soak_workload::stop() {
  stop_.store(true, std::memory_order_relaxed);
  for (std::thread& t : slot_threads_) {
    if (t.joinable()) t.join();
  }
  // Blocks posted to a slot after its last worker drained it.
  for (int i = 0; i < slots_; ++i) drain(i);
}

// A slot starts workers one after another until the run stops.
void soak_workload::run_slot(int slot, std::uint64_t seed) {
  for (std::uint64_t generation = 0; !stop_.load(std::memory_order_relaxed); ++generation) {
    threads_started_.fetch_add(1, std::memory_order_relaxed);
    std::thread worker([this, slot, s = seed + generation * 1000003] { run_worker(slot, s); });
    worker.join();
  }
}

void soak_workload::post(int slot, const block& b) {
  mailbox& m = *mailboxes_[slot];
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.blocks.size() < kMailboxCap) {
      m.blocks.push_back(b);
      return;
    }
  }
  r_.deallocate(b.p, b.bytes, b.alignment);
}

void soak_workload::drain(int slot) {
  std::vector<block> taken;
  {
    std::lock_guard<std::mutex> lock(mailboxes_[slot]->mu);
    taken.swap(mailboxes_[slot]->blocks);
  }
  for (const block& b : taken) r_.deallocate(b.p, b.bytes, b.alignment);
  cross_thread_frees_.fetch_add(taken.size(), std::memory_order_relaxed);
  operations_.fetch_add(taken.size(), std::memory_order_relaxed);
}

void soak_workload::run_worker(int slot, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::uint64_t lifetime =
      worker_ops_ == 0 ? ~std::uint64_t(0) : worker_ops_ / 6 + rng() % (worker_ops_ * 5 / 3 + 1);
  std::vector<block> live;
  live.reserve(kLiveCap);
  std::pmr::polymorphic_allocator<std::byte> alloc(&r_);
  std::pmr::map<std::pmr::string, std::pmr::vector<int>> entries(alloc);
  std::pmr::vector<float> scratch(alloc);
  std::uint64_t ops = 0, published = 0;
  auto other = [&] { return int((slot + 1 + rng() % (slots_ - 1 > 0 ? slots_ - 1 : 1)) % slots_); };
  for (std::uint64_t i = 0; i < lifetime && !stop_.load(std::memory_order_relaxed); ++i) {
    if (live.size() < kLiveCap && (live.empty() || rng() % 2 == 0)) {
      const std::size_t bytes = draw_size(rng);
      const std::size_t alignment = rng() % 8 == 0 ? 64 : 16;
      void* p = r_.allocate(bytes, alignment);
      std::memset(p, int(i), bytes < 64 ? bytes : 64);
      live.push_back({p, bytes, alignment});
      ++ops;
    } else {
      const std::size_t k = rng() % live.size();
      const block b = live[k];
      live[k] = live.back();
      live.pop_back();
      if (slots_ > 1 && rng() % 4 == 0) {
        post(other(), b);  // counted by the slot that frees it
      } else {
        r_.deallocate(b.p, b.bytes, b.alignment);
        ++ops;
      }
    }
    if (i % 64 == 0) {
      // Containers: a vector regrown to a fresh size, a map entry replaced.
      scratch.resize(1 + rng() % 2048);
      if (entries.size() >= kMapCap) entries.erase(std::next(entries.begin(), long(rng() % entries.size())));
      std::pmr::string key(alloc);
      key = "episode-" + std::to_string(rng() % 100000) + "-with-a-long-enough-name";
      entries[key].assign(1 + rng() % 256, int(i));
    }
    if (i % 256 == 0) drain(slot);
    if (ops - published >= kPublishEvery) {
      operations_.fetch_add(ops - published, std::memory_order_relaxed);
      published = ops;
    }
  }
  // Ending: half the live blocks go to other slots, the rest are freed here.
  for (std::size_t k = 0; k < live.size(); ++k) {
    if (slots_ > 1 && k % 2 == 0) post(other(), live[k]);
    else r_.deallocate(live[k].p, live[k].bytes, live[k].alignment), ++ops;
  }
  drain(slot);
  operations_.fetch_add(ops - published, std::memory_order_relaxed);
}

}  // namespace allocbench::soak
