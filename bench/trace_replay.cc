#include "bench/trace_replay.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "bench/tsc_clock.h"

namespace allocbench::bench {
namespace {

using clock = std::chrono::steady_clock;
using trace::resolved_kind;
using trace::resolved_op;

constexpr std::uint32_t kSampleMask = 15;  // one call in 16
constexpr std::size_t kMaxAlignment = 4096;
constexpr std::size_t kPage = 4096;

struct alignas(64) thread_out {
  clock::time_point end;
  std::uint64_t allocations = 0, deallocations = 0, reallocs = 0, remote_waits = 0;
  std::vector<std::uint32_t> alloc_ticks, free_ticks, all_ticks;
};

struct shared_state {
  alignas(64) std::atomic<int> ready{0};
  alignas(64) std::atomic<bool> go{false};
  alignas(64) std::atomic<std::size_t> pass_done{0};
};

void touch(void* p, std::size_t size) {
  auto* b = static_cast<unsigned char*>(p);
  std::memset(b, 0xab, std::min<std::size_t>(size, 64));
  for (std::size_t at = kPage; at < size; at += kPage) b[at] = 1;
}

std::size_t alignment_of(const trace::resolved_block& b) { return std::min<std::size_t>(b.alignment, kMaxAlignment); }

// Waits for another thread's allocation of the block to be published.
void* wait_for(std::atomic<void*>& slot, std::uint64_t& waits) {
  void* p = slot.load(std::memory_order_acquire);
  if (p != nullptr) return p;
  ++waits;
  for (int spins = 0; (p = slot.load(std::memory_order_acquire)) == nullptr; ++spins) {
    if (spins < 64) __builtin_ia32_pause();
    else std::this_thread::yield();  // the other thread may need this core
  }
  return p;
}

void spin_until(const std::atomic<bool>& flag) {
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}

void replay_thread(const trace::resolved_trace& t, std::size_t index, std::pmr::memory_resource& r,
                   std::atomic<void*>* slots, shared_state& shared, std::size_t passes, thread_out& out) {
  const std::vector<resolved_op>& ops = t.threads[index].ops;
  const trace::resolved_block* blocks = t.blocks.data();
  const std::size_t samples = ops.size() / (kSampleMask + 1) + 1;
  out.alloc_ticks.reserve(samples * passes);
  out.free_ticks.reserve(samples * passes);
  out.all_ticks.reserve(samples * passes);
  const std::size_t threads = t.threads.size();
  shared.ready.fetch_add(1, std::memory_order_acq_rel);
  spin_until(shared.go);
  std::uint32_t counter = 0;
  for (std::size_t pass = 0; pass < passes; ++pass) {
    for (const resolved_op& op : ops) {
      const bool sampled = (++counter & kSampleMask) == 0;
      const std::uint64_t t0 = sampled ? tsc_now() : 0;
      switch (op.kind) {
        case resolved_kind::allocate: {
          const trace::resolved_block& b = blocks[op.block];
          void* p = r.allocate(b.size, alignment_of(b));
          touch(p, b.size);
          slots[op.block].store(p, std::memory_order_release);
          ++out.allocations;
          if (sampled) out.alloc_ticks.push_back(std::uint32_t(std::min<std::uint64_t>(tsc_now() - t0, UINT32_MAX)));
          break;
        }
        case resolved_kind::free: {
          const trace::resolved_block& b = blocks[op.block];
          void* p = op.remote ? wait_for(slots[op.block], out.remote_waits) : slots[op.block].load(std::memory_order_relaxed);
          // Timed from here: the wait is the program's order, not the allocator's cost.
          const std::uint64_t t1 = sampled ? tsc_now() : 0;
          r.deallocate(p, b.size, alignment_of(b));
          slots[op.block].store(nullptr, std::memory_order_relaxed);  // ready for the next pass
          ++out.deallocations;
          if (sampled) out.free_ticks.push_back(std::uint32_t(std::min<std::uint64_t>(tsc_now() - t1, UINT32_MAX)));
          break;
        }
        case resolved_kind::realloc: {
          const trace::resolved_block& old_b = blocks[op.block];
          const trace::resolved_block& new_b = blocks[op.new_block];
          void* old = op.remote ? wait_for(slots[op.block], out.remote_waits) : slots[op.block].load(std::memory_order_relaxed);
          const std::uint64_t t1 = sampled ? tsc_now() : 0;
          void* p = r.allocate(new_b.size, alignment_of(new_b));
          std::memcpy(p, old, std::min(old_b.size, new_b.size));
          if (new_b.size > old_b.size) touch(static_cast<unsigned char*>(p) + old_b.size, new_b.size - old_b.size);
          r.deallocate(old, old_b.size, alignment_of(old_b));
          slots[op.block].store(nullptr, std::memory_order_relaxed);
          slots[op.new_block].store(p, std::memory_order_release);
          ++out.allocations;
          ++out.deallocations;
          ++out.reallocs;
          if (sampled) out.all_ticks.push_back(std::uint32_t(std::min<std::uint64_t>(tsc_now() - t1, UINT32_MAX)));
          break;
        }
      }
    }
    // Between passes only: every thread's blocks of this pass are freed before any is allocated again.
    if (pass + 1 < passes) {
      shared.pass_done.fetch_add(1, std::memory_order_acq_rel);
      while (shared.pass_done.load(std::memory_order_acquire) < (pass + 1) * threads) std::this_thread::yield();
    }
  }
  out.end = clock::now();
}

double ns_at(const std::vector<std::uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  return double(sorted[std::min(sorted.size() - 1, std::size_t(q * double(sorted.size())))]) * tsc_ns_per_tick();
}

call_distribution distribution(std::vector<std::uint32_t>& ticks) {
  std::sort(ticks.begin(), ticks.end());
  call_distribution d;
  d.samples = ticks.size();
  d.p50_ns = ns_at(ticks, 0.5);
  d.p90_ns = ns_at(ticks, 0.9);
  d.p99_ns = ns_at(ticks, 0.99);
  d.p999_ns = ns_at(ticks, 0.999);
  d.max_ns = ticks.empty() ? 0 : double(ticks.back()) * tsc_ns_per_tick();
  for (std::uint32_t t : ticks) {
    const double ns = double(t) * tsc_ns_per_tick();
    const std::size_t bucket = ns < 1 ? 0 : std::size_t(63 - __builtin_clzll(std::uint64_t(ns)));
    if (d.log2_ns.size() <= bucket) d.log2_ns.resize(bucket + 1, 0);
    ++d.log2_ns[bucket];
  }
  return d;
}

latency_summary summarize(std::vector<std::uint32_t>& ticks) {
  const call_distribution d = distribution(ticks);
  latency_summary s;
  s.samples = d.samples;
  s.p50_ns = d.p50_ns;
  s.p99_ns = d.p99_ns;
  s.p999_ns = d.p999_ns;
  return s;
}

}  // namespace

replay_result run_replay(const trace::resolved_trace& t, std::pmr::memory_resource& target, std::size_t passes) {
  tsc_ns_per_tick();  // calibrated before, never during, the run
  const std::size_t n = t.threads.size();
  std::unique_ptr<std::atomic<void*>[]> slots(new std::atomic<void*>[t.blocks.size() + 1]);
  for (std::size_t i = 0; i <= t.blocks.size(); ++i) slots[i].store(nullptr, std::memory_order_relaxed);
  shared_state shared;
  std::unique_ptr<thread_out[]> outs(new thread_out[n]);
  std::vector<std::thread> workers;
  workers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    workers.emplace_back(replay_thread, std::cref(t), i, std::ref(target), slots.get(), std::ref(shared), passes,
                         std::ref(outs[i]));
  }
  while (shared.ready.load(std::memory_order_acquire) < int(n)) std::this_thread::yield();
  const clock::time_point start = clock::now();
  shared.go.store(true, std::memory_order_release);
  for (std::thread& w : workers) w.join();

  replay_result r;
  r.threads = int(n);
  clock::time_point end = start;
  std::vector<std::uint32_t> a, f, all;
  for (std::size_t i = 0; i < n; ++i) {
    thread_out& o = outs[i];
    end = std::max(end, o.end);
    r.allocations += o.allocations;
    r.deallocations += o.deallocations;
    r.reallocs += o.reallocs;
    r.remote_waits += o.remote_waits;
    a.insert(a.end(), o.alloc_ticks.begin(), o.alloc_ticks.end());
    f.insert(f.end(), o.free_ticks.begin(), o.free_ticks.end());
    all.insert(all.end(), o.all_ticks.begin(), o.all_ticks.end());
  }
  all.insert(all.end(), a.begin(), a.end());
  all.insert(all.end(), f.begin(), f.end());
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.allocate = summarize(a);
  r.deallocate = summarize(f);
  r.calls = distribution(all);
  return r;
}

}  // namespace allocbench::bench
