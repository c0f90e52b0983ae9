// Workload parsing: every check a run depends on happens here, so a bad config fails with file, field
// and reason before any thread starts. The schema is documented in workload_config.h.
#include "bench/workload_config.h"

#include <algorithm>
#include <iterator>
#include <limits>

#include "bench/trace_workload.h"
#include "bench/workload_memory.h"
#include "pmr/config_error.h"
#include "pmr/json_fields.h"

namespace allocbench::bench {
namespace {

constexpr std::size_t kMaxRequest = std::size_t{1} << 30;

// A [lo, hi] pair of non-negative integers with lo <= hi, both within [min, max].
std::pair<std::size_t, std::size_t> parse_range(const json_fields& f, std::string_view key,
                                                std::size_t min, std::size_t max) {
  const std::vector<std::size_t> v = f.size_list(key, 2);
  if (v.size() != 2) f.fail(key, "must be [lo, hi], got " + std::to_string(v.size()) + " elements");
  if (v[0] > v[1]) f.fail(key, "lo must not exceed hi");
  if (v[0] < min || v[1] > max) {
    f.fail(key, "must lie within [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return {v[0], v[1]};
}

void check_sizes(const json_fields& f, std::string_view key, const std::vector<std::size_t>& v) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == 0 || v[i] > kMaxRequest) {
      throw config_error(f.file(), f.field_path(key) + "[" + std::to_string(i) + "]",
                         "a size must be 1..1073741824 bytes, got " + std::to_string(v[i]));
    }
  }
}

size_distribution parse_sizes(const json_fields& parent, std::string_view key) {
  const json_fields f = parent.object(key);
  f.reject_unknown({"buckets", "weights", "uniform", "list"});
  const int forms = int(f.has("buckets")) + int(f.has("uniform")) + int(f.has("list"));
  if (forms != 1) f.fail("must have exactly one of \"buckets\" (with \"weights\"), \"uniform\", \"list\"");
  size_distribution d;
  std::vector<std::size_t> values;
  if (f.has("buckets")) {
    d.type = size_distribution::kind::buckets;
    values = f.size_list("buckets");
    check_sizes(f, "buckets", values);
    const nlohmann::json& w = f.array("weights");
    if (w.size() != values.size()) {
      f.fail("weights", "must have one weight per bucket (" + std::to_string(values.size()) + "), got " +
                            std::to_string(w.size()));
    }
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (!w[i].is_number() || !(w[i].get<double>() > 0)) {
        throw config_error(f.file(), f.field_path("weights") + "[" + std::to_string(i) + "]",
                           "must be a positive number, got " + json_fields::describe(w[i]));
      }
      d.weights.push_back(w[i].get<double>());
    }
  } else {
    if (f.has("weights")) f.fail("weights", "only goes with \"buckets\"");
    if (f.has("uniform")) {
      d.type = size_distribution::kind::uniform;
      auto [lo, hi] = parse_range(f, "uniform", 1, kMaxRequest);
      values = {lo, hi};
    } else {
      d.type = size_distribution::kind::list;
      values = f.size_list("list");
      check_sizes(f, "list", values);
    }
  }
  for (std::size_t v : values) d.values.push_back(std::uint32_t(v));
  return d;
}

double probability(const json_fields& f, std::string_view key, double fallback, bool zero_ok,
                   bool one_ok) {
  const double p = f.number_or(key, fallback);
  if (!(zero_ok ? p >= 0 : p > 0) || !(one_ok ? p <= 1 : p < 1)) {
    f.fail(key, std::string("must be in ") + (zero_ok ? "[0" : "(0") + ", 1" + (one_ok ? "]" : ")") +
                    ", got " + std::to_string(p));
  }
  return p;
}

// Reads parent's "containers" object, if any, into `weights` (which keeps its values otherwise).
void parse_containers(const json_fields& parent, double (&weights)[kCarrierCount]) {
  if (!parent.has("containers")) return;
  const json_fields f = parent.object("containers");
  f.reject_unknown({"raw", "tensor", "map", "unordered_map", "tensor_buffer"});
  const char* names[kCarrierCount] = {"raw", "tensor", "map", "unordered_map", "tensor_buffer"};  // carrier order
  double total = 0;
  for (int i = 0; i < kCarrierCount; ++i) {
    weights[i] = f.number_or(names[i], 0.0);
    if (!(weights[i] >= 0)) f.fail(names[i], "must be a non-negative number");
    total += weights[i];
  }
  if (!(total > 0)) f.fail("must give at least one carrier a positive weight");
}

std::vector<lifetime_class> parse_lifetimes(const json_fields& root, const size_distribution& sizes,
                                            const double (&carriers)[kCarrierCount]) {
  lifetime_class fallback;
  fallback.sizes = sizes;
  std::copy(std::begin(carriers), std::end(carriers), fallback.carrier_weights);
  if (!root.has("lifetimes")) return {fallback};
  const nlohmann::json& list = root.array("lifetimes");
  if (list.empty()) root.fail("lifetimes", "must have at least one element");
  std::vector<lifetime_class> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json_fields f = root.element("lifetimes", i);
    f.reject_unknown({"kind", "weight", "ops", "sizes", "containers"});
    lifetime_class c = fallback;
    const std::string kind = f.string("kind");
    if (kind == "random") c.kind = lifetime_kind::random;
    else if (kind == "fifo") c.kind = lifetime_kind::fifo;
    else if (kind == "scoped") c.kind = lifetime_kind::scoped;
    else f.fail("kind", "must be one of random, fifo, scoped, got \"" + kind + "\"");
    c.weight = f.number("weight");
    if (!(c.weight > 0)) f.fail("weight", "must be a positive number");
    if (c.kind == lifetime_kind::scoped) {
      auto [lo, hi] = parse_range(f, "ops", 1, 1u << 30);
      c.min_ops = std::uint32_t(lo);
      c.max_ops = std::uint32_t(hi);
    } else if (f.has("ops")) {
      f.fail("ops", "only a scoped lifetime has \"ops\"");
    }
    if (f.has("sizes")) c.sizes = parse_sizes(f, "sizes");
    parse_containers(f, c.carrier_weights);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

const char* pattern_name(workload_pattern p) {
  switch (p) {
    case workload_pattern::live_set: return "live_set";
    case workload_pattern::ring_handoff: return "ring_handoff";
    case workload_pattern::requests: return "requests";
    case workload_pattern::trace: return "trace";
  }
  return "?";
}

workload_config parse_workload(const nlohmann::json& doc, const std::string& source,
                               std::uint64_t memory_budget) {
  // Before anything copies or walks the document recursively (w.raw below is a deep copy).
  check_json_depth(doc, source);
  const json_fields root(doc, source);
  if (root.string_or("pattern", "") == "trace") {
    workload_config t;
    t.source = source;
    t.raw = doc;
    t.name = root.string("name");
    if (t.name.empty()) root.fail("name", "must not be empty");
    t.description = root.string_or("description", "");
    return parse_trace_workload(root, std::move(t));
  }
  root.reject_unknown({"name", "description", "pattern", "seed", "threads", "ops_per_thread",
                       "min_seconds", "sizes", "alignment", "allocate_probability", "live_cap",
                       "lifetimes", "containers", "tensor_resize_probability", "ring", "requests"});
  workload_config w;
  w.source = source;
  w.raw = doc;
  w.name = root.string("name");
  if (w.name.empty()) root.fail("name", "must not be empty");
  w.description = root.string_or("description", "");

  const std::string pattern = root.string_or("pattern", "live_set");
  if (pattern == "live_set") w.pattern = workload_pattern::live_set;
  else if (pattern == "ring_handoff") w.pattern = workload_pattern::ring_handoff;
  else if (pattern == "requests") w.pattern = workload_pattern::requests;
  else root.fail("pattern", "must be one of live_set, ring_handoff, requests, trace, got \"" + pattern + "\"");

  w.seed = root.size_or("seed", 1);
  if (root.has("threads")) {
    w.threads.clear();
    for (std::size_t t : root.size_list("threads")) {
      if (t < 1 || t > 256) root.fail("threads", "each thread count must be 1..256, got " + std::to_string(t));
      w.threads.push_back(int(t));
    }
  }
  w.ops_per_thread = root.size_or("ops_per_thread", 200000);
  if (w.ops_per_thread < 1 || w.ops_per_thread > (std::size_t{1} << 31)) {
    root.fail("ops_per_thread", "must be 1..2147483648");
  }
  w.min_seconds = root.number_or("min_seconds", 0.5);
  if (!(w.min_seconds >= 0 && w.min_seconds <= 3600)) root.fail("min_seconds", "must be in [0, 3600]");

  w.sizes = parse_sizes(root, "sizes");
  w.alignment = root.size_or("alignment", 16);
  if (w.alignment == 0 || (w.alignment & (w.alignment - 1)) != 0 || w.alignment > 4096) {
    root.fail("alignment", "must be a power of two no larger than 4096, got " + std::to_string(w.alignment));
  }
  w.allocate_probability = probability(root, "allocate_probability", 0.5, false, true);
  w.live_cap = root.size_or("live_cap", 4096);
  if (w.live_cap < 1 || w.live_cap > (std::size_t{1} << 24)) root.fail("live_cap", "must be 1..16777216");
  parse_containers(root, w.carrier_weights);
  w.lifetimes = parse_lifetimes(root, w.sizes, w.carrier_weights);
  w.tensor_resize_probability = probability(root, "tensor_resize_probability", 0.0, true, false);

  // Pattern-specific sections: present exactly when their pattern is chosen, or a typo in "pattern"
  // would silently run a different experiment.
  if (root.has("ring") && w.pattern != workload_pattern::ring_handoff) {
    root.fail("ring", "only goes with \"pattern\": \"ring_handoff\"");
  }
  if (root.has("requests") && w.pattern != workload_pattern::requests) {
    root.fail("requests", "only goes with \"pattern\": \"requests\"");
  }
  if (w.pattern != workload_pattern::live_set) {
    if (root.has("lifetimes")) root.fail("lifetimes", "only goes with \"pattern\": \"live_set\"");
    if (root.has("containers")) root.fail("containers", "only goes with \"pattern\": \"live_set\"");
  }
  if (w.pattern == workload_pattern::ring_handoff && root.has("ring")) {
    const json_fields f = root.object("ring");
    f.reject_unknown({"queue_capacity", "batch"});
    w.queue_capacity = f.size_or("queue_capacity", 256);
    if (w.queue_capacity < 1 || w.queue_capacity > 65536) f.fail("queue_capacity", "must be 1..65536");
    w.ring_batch = f.size_or("batch", 1);
    if (w.ring_batch < 1 || w.ring_batch > 4096) {
      f.fail("batch", "must be 1..4096, got " + std::to_string(w.ring_batch));
    }
    // A batch is sent whole, so the queue must hold at least one.
    if (w.ring_batch > w.queue_capacity) {
      f.fail("batch", "must be at most queue_capacity (" + std::to_string(w.queue_capacity) + "), got " +
                          std::to_string(w.ring_batch));
    }
  }
  if (w.pattern == workload_pattern::requests) {
    const json_fields f = root.object("requests");
    f.reject_unknown({"in_flight", "tokens", "token_floats"});
    w.requests_in_flight = f.size_or("in_flight", 4);
    if (w.requests_in_flight < 1 || w.requests_in_flight > 1024) f.fail("in_flight", "must be 1..1024");
    auto [lo, hi] = parse_range(f, "tokens", 1, 65536);
    w.min_tokens = std::uint32_t(lo);
    w.max_tokens = std::uint32_t(hi);
    // Checked as read, before narrowing: 2^32 + 64 must not pass as 64.
    const std::size_t token_floats = f.size_or("token_floats", 64);
    if (token_floats < 1 || token_floats > (std::size_t{1} << 20)) {
      f.fail("token_floats", "must be 1..1048576, got " + std::to_string(token_floats));
    }
    // A request's activation buffer holds tokens * token_floats floats, which a trace op carries in
    // 32 bits.
    const std::uint64_t floats = std::uint64_t(w.max_tokens) * token_floats;
    if (floats > std::numeric_limits<std::uint32_t>::max()) {
      f.fail("token_floats", "tokens (up to " + std::to_string(w.max_tokens) + ") x token_floats (" +
                                 std::to_string(token_floats) + ") = " + std::to_string(floats) +
                                 " floats per request, above 4294967295");
    }
    w.token_floats = std::uint32_t(token_floats);
  }
  check_memory_budget(w, memory_budget);
  return w;
}

workload_config load_workload(const std::filesystem::path& path, std::uint64_t memory_budget) {
  return parse_workload(read_json_file(path), path.string(), memory_budget);
}

}  // namespace allocbench::bench
