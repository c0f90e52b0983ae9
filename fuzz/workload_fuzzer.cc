// Fuzz target: the benchmark's workload loader. Bytes -> JSON -> parse_workload
// (bench/workload_config.h). Properties:
// - a document is either parsed or rejected with config_error naming the file; any other exception,
//   a crash or a sanitizer report is a finding;
// - what it accepts keeps the schema's promises (the ranges a run relies on), and a number it accepts
//   is stored as written, not wrapped (issue 15, defect 4: token_floats above 2^32).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/workload_config.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/known_findings.h"
#include "pmr/config_error.h"

namespace {

using allocbench::bench::workload_config;
using allocbench::bench::workload_pattern;

bool power_of_two(std::size_t x) { return x != 0 && (x & (x - 1)) == 0; }

// The value of a numeric field as written, when it is a non-negative integer.
bool written(const nlohmann::json& doc, const char* section, const char* key, std::uint64_t& out) {
  const nlohmann::json* node = &doc;
  if (section != nullptr) {
    auto it = doc.find(section);
    if (it == doc.end()) return false;
    node = &*it;
  }
  auto it = node->find(key);
  if (it == node->end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned()) out = it->get<std::uint64_t>();
  else if (it->get<std::int64_t>() >= 0) out = std::uint64_t(it->get<std::int64_t>());
  else return false;
  return true;
}

void check_accepted(const nlohmann::json& doc, const workload_config& w) {
  FUZZ_CHECK(!w.name.empty(), "accepted an empty name");
  FUZZ_CHECK(!w.threads.empty(), "accepted no thread counts");
  for (int t : w.threads) FUZZ_CHECK(t >= 1 && t <= 256, "accepted thread count %d", t);
  FUZZ_CHECK(w.ops_per_thread >= 1, "accepted ops_per_thread 0");
  FUZZ_CHECK(power_of_two(w.alignment) && w.alignment <= 4096, "accepted alignment %zu", w.alignment);
  FUZZ_CHECK(w.allocate_probability > 0 && w.allocate_probability <= 1, "accepted allocate_probability %g",
             w.allocate_probability);
  FUZZ_CHECK(w.live_cap >= 1, "accepted live_cap 0");
  FUZZ_CHECK(!w.sizes.values.empty(), "accepted no sizes");
  for (std::uint32_t v : w.sizes.values) FUZZ_CHECK(v >= 1 && v <= (1u << 30), "accepted size %u", v);
  if (w.pattern == workload_pattern::requests) {
    FUZZ_CHECK(w.min_tokens >= 1 && w.min_tokens <= w.max_tokens && w.max_tokens <= 65536,
               "accepted tokens [%u, %u]", w.min_tokens, w.max_tokens);
    FUZZ_CHECK(w.token_floats >= 1, "accepted token_floats 0");
    FUZZ_CHECK(w.requests_in_flight >= 1 && w.requests_in_flight <= 1024, "accepted in_flight %zu",
               w.requests_in_flight);
    std::uint64_t v = 0;
    if (!allocbench::fuzz::known_finding("workload_wrap") && written(doc, "requests", "token_floats", v)) {
      FUZZ_CHECK(v == w.token_floats, "token_floats %llu was stored as %u", static_cast<unsigned long long>(v),
                 w.token_floats);
    }
  }
  if (w.pattern == workload_pattern::ring_handoff) {
    FUZZ_CHECK(w.queue_capacity >= 1 && w.queue_capacity <= 65536, "accepted queue_capacity %zu", w.queue_capacity);
  }
  std::uint64_t v = 0;
  if (!allocbench::fuzz::known_finding("workload_wrap") && written(doc, nullptr, "ops_per_thread", v)) {
    FUZZ_CHECK(v == w.ops_per_thread, "ops_per_thread %llu was stored as %zu", static_cast<unsigned long long>(v),
               w.ops_per_thread);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  try {
    check_accepted(doc, allocbench::bench::parse_workload(doc, "workload_fuzzer"));
  } catch (const allocbench::config_error& e) {
    FUZZ_CHECK(e.file() == "workload_fuzzer", "config_error names file '%s'", e.file().c_str());
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "parse_workload threw something other than config_error: %s", e.what());
  }
  return 0;
}
