// Merging the backends' records: medians over repetitions, with min and max kept, per allocator and
// thread count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace allocbench::bench {

struct summary_row {
  std::string allocator, family, backend;
  int threads = 0;
  int reps = 0;
  double mops_median = 0, mops_min = 0, mops_max = 0;
  double alloc_p50 = 0, alloc_p99 = 0, alloc_p999 = 0;  // ns, medians over reps
  double free_p50 = 0, free_p99 = 0, free_p999 = 0;
  std::optional<double> overhead_ratio;         // ours: stats(); peers: the usage probe; none: n/a
  std::optional<std::uint64_t> peak_live_bytes;
  std::optional<std::uint64_t> contention_events;  // ours only
  std::uint64_t peak_rss_kib = 0;
  std::optional<std::uint64_t> peak_bytes_held;  // ours only: upstream bytes, most during the run
  std::optional<std::uint64_t> bytes_held;       // ours only: still held once everything was freed
  bool consistent = true;                       // every rep freed all it allocated
  std::optional<double> ratio_to_glibc;         // mops_median / glibc's at the same thread count
};

// `outputs`: each backend's JSON document (backend_main.cc). Rows keep the allocators' order of first
// appearance, then thread counts ascending.
// The median of a set (0 for an empty one); an even count averages the middle two.
double median(std::vector<double> v);

std::vector<summary_row> summarize(const std::vector<nlohmann::json>& outputs);

nlohmann::json to_json(const summary_row& r);

}  // namespace allocbench::bench
