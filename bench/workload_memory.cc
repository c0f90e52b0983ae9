#include "bench/workload_memory.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "bench/trace.h"
#include "pmr/config_error.h"

namespace allocbench::bench {
namespace {

constexpr std::uint64_t kSaturated = std::numeric_limits<std::uint64_t>::max();

// Saturating arithmetic: a product of hostile limits must read as "too much", never wrap to little.
std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? kSaturated : r;
}
std::uint64_t add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? kSaturated : r;
}

// An executor keeps, per slot, a pointer, a size, an empty vector, an empty tensor_buffer and a map
// key (bench/thread_executor.h): less than this.
constexpr std::uint64_t kSlotBytes = 256;
// What a live item costs beyond its bytes: a map or hash node, a string header, a queue entry.
constexpr std::uint64_t kItemOverheadBytes = 128;

std::uint64_t largest(const size_distribution& d) {
  return d.values.empty() ? 0 : *std::max_element(d.values.begin(), d.values.end());
}

std::uint64_t largest_size(const workload_config& w) {
  std::uint64_t m = largest(w.sizes);
  for (const lifetime_class& c : w.lifetimes) m = std::max(m, largest(c.sizes));
  return m;
}

std::string gib(std::uint64_t bytes) {
  if (bytes == kSaturated) return "more than 2^64 bytes";
  const double g = double(bytes) / double(std::uint64_t{1} << 30);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f GiB", g);
  return buf;
}

}  // namespace

memory_estimate estimate_memory(const workload_config& w) {
  const std::uint64_t threads =
      w.threads.empty() ? 1 : std::uint64_t(*std::max_element(w.threads.begin(), w.threads.end()));
  const std::uint64_t item = add(largest_size(w), kItemOverheadBytes);
  std::uint64_t ops = w.ops_per_thread, slots = 0, blocks = 0;  // per thread
  const char* blocks_field = "";
  switch (w.pattern) {
    case workload_pattern::live_set:
      ops = add(ops, w.live_cap);  // the closing drain frees every live item
      slots = w.live_cap;
      blocks = mul(w.live_cap, item);
      blocks_field = "live_cap";
      break;
    case workload_pattern::ring_handoff:
      // Each thread's outbound queue holds up to queue_capacity blocks, plus the batch it is filling.
      blocks = mul(add(w.queue_capacity, w.ring_batch > 1 ? w.ring_batch : 0), item);
      blocks_field = "ring.queue_capacity";
      break;
    case workload_pattern::trace:  // parsed and sized by bench/trace_workload.cc
      break;
    case workload_pattern::requests: {
      const std::uint64_t tokens = mul(w.requests_in_flight, w.max_tokens);
      ops = add(add(ops, tokens), w.requests_in_flight);  // every request's frees at the end
      slots = tokens;
      // A request's KV blocks, and its activation buffer, which a growth may reserve twice over.
      const std::uint64_t activations =
          mul(mul(mul(tokens, w.token_floats), sizeof(float)), 2);
      blocks = add(mul(tokens, item), activations);
      blocks_field = activations > mul(tokens, item) ? "requests.token_floats" : "requests.tokens";
      break;
    }
  }
  memory_estimate e;
  e.traces = mul(mul(ops, sizeof(op)), threads);
  e.bookkeeping = mul(mul(slots, kSlotBytes), threads);
  e.blocks = mul(blocks, threads);
  e.total = add(add(e.traces, e.bookkeeping), e.blocks);
  e.dominant_field = e.traces >= e.blocks && e.traces >= e.bookkeeping ? "ops_per_thread" : blocks_field;
  return e;
}

void check_memory_budget(const workload_config& w, std::uint64_t budget) {
  const memory_estimate e = estimate_memory(w);
  if (e.total <= budget) return;
  const int threads = w.threads.empty() ? 1 : *std::max_element(w.threads.begin(), w.threads.end());
  throw config_error(w.source, e.dominant_field,
                     "the workload would need about " + gib(e.total) + " at " + std::to_string(threads) +
                         " threads (traces " + gib(e.traces) + ", per-slot state " + gib(e.bookkeeping) +
                         ", blocks " + gib(e.blocks) + "), above the memory budget of " + gib(budget) +
                         " (--memory-budget-gib raises it)");
}

}  // namespace allocbench::bench
