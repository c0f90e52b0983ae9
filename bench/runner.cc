// The timed loop. Threads are created and warmed first, wait at a spin barrier on an atomic, and start
// together; one op in 1024 is timed with the TSC and the stop flag is read at the same moment, so the
// other 1023 ops run with no harness work but the trace walk.
#include "bench/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "bench/spsc_queue.h"
#include "bench/thread_executor.h"
#include "bench/tsc_clock.h"

namespace allocbench::bench {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t kSampleEvery = 1024;
constexpr std::size_t kMaxSamples = 1 << 15;  // per thread and direction: ~30 M ops' worth

// Per-thread outputs, each on its own cache lines so that threads never share a written line.
struct alignas(64) thread_state {
  std::atomic<bool> done{false};
  clock::time_point end;
  std::uint64_t allocations = 0, deallocations = 0;
  std::uint64_t total_allocations = 0, total_deallocations = 0;
  std::vector<std::uint32_t> allocate_ticks, deallocate_ticks;
};

struct shared_flags {
  alignas(64) std::atomic<int> ready{0};
  alignas(64) std::atomic<bool> go{false};
  alignas(64) std::atomic<bool> stop{false};
  alignas(64) std::atomic<int> stopped{0};
};

void spin_until(const std::atomic<bool>& flag) {
  // Spins, yielding so that threads still warming up on the same core get to run.
  while (!flag.load(std::memory_order_acquire)) std::this_thread::yield();
}
void spin_until_count(const std::atomic<int>& n, int target) {
  while (n.load(std::memory_order_acquire) < target) std::this_thread::yield();
}

// A batch_receive frees a whole batch: not one call's latency, so it is not sampled.
bool is_allocating(op_kind k) { return k == op_kind::allocate || k == op_kind::send || k == op_kind::batch_send; }
bool is_freeing(op_kind k) { return k == op_kind::deallocate || k == op_kind::receive; }

// One allocate/deallocate pair of the trace's first allocation size, made before the window opens.
// Why: a process-wide malloc (every peer) has this thread's cache by now, made by the harness's own
// allocations above; a pmr resource has not seen the thread yet, and it made its cache (and took
// the shared registry lock, next to fifteen other threads doing the same) inside the first timed
// op, which is always sampled. At 16 threads on 2 cores those sixteen samples were p99.9 itself:
// inference_kv's allocate p99.9 was 1-50 ms for scalable against ~4 us with this pair (tcmalloc
// ~1.5 us, warm). Every allocator gets the same pair, and it is balanced, so counts still agree.
void warm_thread_state(std::pmr::memory_resource& target, const thread_trace& trace, std::size_t alignment) {
  std::size_t size = 64;  // a trace without plain allocations (tensors only): any small block will do
  for (const op& o : trace.ops) {
    if (o.kind == op_kind::allocate && o.size > 0) {
      size = o.size;
      break;
    }
  }
  target.deallocate(target.allocate(size, alignment), size, alignment);
}

void thread_body(const thread_trace& trace, std::pmr::memory_resource& target, const run_settings& settings,
                 ring_links ring, shared_flags& flags, int threads, thread_state& out) {
  thread_executor exec(target, trace, settings.alignment, ring);
  out.allocate_ticks.reserve(kMaxSamples);
  out.deallocate_ticks.reserve(kMaxSamples);
  // Warm the trace: the first pass must not pay for faulting it in.
  const op* ops = trace.ops.data();
  const std::size_t n = trace.ops.size();
  std::uint64_t checksum = 0;
  for (std::size_t i = 0; i < n; i += 16) checksum += ops[i].size;
  asm volatile("" : : "r"(checksum));
  warm_thread_state(target, trace, settings.alignment);

  flags.ready.fetch_add(1, std::memory_order_acq_rel);
  spin_until(flags.go);

  const bool one_pass = !settings.repeat;
  std::size_t i = 0;
  std::uint64_t executed = 0;
  bool running = n > 0;
  while (running) {
    if (flags.stop.load(std::memory_order_relaxed)) break;
    // The sampled op: timed on its own, never inside the untimed stretch below.
    const op& sampled = ops[i];
    const std::uint64_t t0 = tsc_now();
    running = exec.run(sampled);
    const std::uint64_t ticks = tsc_now() - t0;
    std::vector<std::uint32_t>& bucket = is_allocating(sampled.kind) ? out.allocate_ticks : out.deallocate_ticks;
    if ((is_allocating(sampled.kind) || is_freeing(sampled.kind)) && bucket.size() < kMaxSamples) {
      bucket.push_back(std::uint32_t(std::min<std::uint64_t>(ticks, UINT32_MAX)));
    }
    if (++i == n) i = 0;
    ++executed;
    // The untimed stretch: up to 1023 ops, stopping at the trace's end in one-pass mode.
    std::size_t stretch = kSampleEvery - 1;
    if (one_pass) stretch = std::min<std::uint64_t>(stretch, n - executed);
    for (std::size_t k = 0; k < stretch && running; ++k) {
      running = exec.run(ops[i]);
      if (++i == n) i = 0;
    }
    executed += stretch;
    if (one_pass && executed >= n) break;
  }
  out.end = clock::now();
  out.allocations = exec.allocations();
  out.deallocations = exec.deallocations();
  out.done.store(true, std::memory_order_release);

  // After the window: the ring's queues are drained only once every thread has stopped pushing.
  flags.stopped.fetch_add(1, std::memory_order_acq_rel);
  if (ring.inbound != nullptr) {
    spin_until_count(flags.stopped, threads);
    exec.drain_inbound();
  }
  exec.release_all();
  out.total_allocations = exec.allocations() + 1;  // the warm pair's
  out.total_deallocations = exec.deallocations() + 1;
}

latency_summary summarize(std::vector<std::uint32_t>& ticks) {
  latency_summary s;
  s.samples = ticks.size();
  if (ticks.empty()) return s;
  std::sort(ticks.begin(), ticks.end());
  const double scale = tsc_ns_per_tick();
  auto at = [&](double q) { return double(ticks[std::min(ticks.size() - 1, std::size_t(q * double(ticks.size())))]) * scale; };
  s.p50_ns = at(0.5);
  s.p99_ns = at(0.99);
  s.p999_ns = at(0.999);
  return s;
}

}  // namespace

run_result run_timed(const std::vector<thread_trace>& traces, std::pmr::memory_resource& target,
                     const run_settings& settings) {
  const int n = int(traces.size());
  tsc_ns_per_tick();  // calibrate before the run, never inside it
  shared_flags flags;
  std::unique_ptr<thread_state[]> state(new thread_state[std::size_t(n)]);

  // Ring wiring: thread i pushes into queue i, thread i+1 pops from it.
  const bool ring = !traces.empty() && traces[0].handoff;
  std::vector<std::unique_ptr<spsc_queue>> queues;
  if (ring) {
    for (int t = 0; t < n; ++t) queues.push_back(std::make_unique<spsc_queue>(settings.queue_capacity));
  }

  std::vector<std::thread> workers;
  workers.reserve(std::size_t(n));
  for (int t = 0; t < n; ++t) {
    ring_links links;
    if (ring) {
      const int prev = (t + n - 1) % n;
      links = ring_links{queues[std::size_t(t)].get(), queues[std::size_t(prev)].get(), &state[std::size_t(prev)].done,
                         &flags.stop};
    }
    workers.emplace_back(thread_body, std::cref(traces[std::size_t(t)]), std::ref(target), std::cref(settings),
                         links, std::ref(flags), n, std::ref(state[std::size_t(t)]));
  }

  spin_until_count(flags.ready, n);
  const clock::time_point start = clock::now();
  flags.go.store(true, std::memory_order_release);

  // The main thread only keeps time; it sleeps between checks so that it takes no core from the
  // workers on a small machine.
  if (settings.seconds > 0) {
    const auto budget = std::chrono::duration<double>(settings.seconds);
    while (clock::now() - start < budget) {
      bool all_done = true;
      for (int t = 0; t < n; ++t) all_done = all_done && state[std::size_t(t)].done.load(std::memory_order_acquire);
      if (all_done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    flags.stop.store(true, std::memory_order_relaxed);
  }
  for (std::thread& w : workers) w.join();

  run_result r;
  r.threads = n;
  clock::time_point end = start;
  std::vector<std::uint32_t> alloc_ticks, free_ticks;
  for (int t = 0; t < n; ++t) {
    const thread_state& s = state[std::size_t(t)];
    end = std::max(end, s.end);
    r.allocations += s.allocations;
    r.deallocations += s.deallocations;
    r.total_allocations += s.total_allocations;
    r.total_deallocations += s.total_deallocations;
    alloc_ticks.insert(alloc_ticks.end(), s.allocate_ticks.begin(), s.allocate_ticks.end());
    free_ticks.insert(free_ticks.end(), s.deallocate_ticks.begin(), s.deallocate_ticks.end());
  }
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.allocate = summarize(alloc_ticks);
  r.deallocate = summarize(free_ticks);
  return r;
}

}  // namespace allocbench::bench
