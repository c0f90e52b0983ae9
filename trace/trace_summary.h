// What a trace looks like, as numbers: the summary tools/trace_stats prints and plots.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trace/block_resolver.h"
#include "trace/trace_file.h"

namespace allocbench::trace {

struct trace_summary {
  trace_header header;
  std::uint64_t file_bytes = 0, events = 0;
  double seconds = 0;  // first to last event
  std::vector<std::uint64_t> events_per_thread;
  std::vector<std::uint64_t> events_per_kind;     // indexed by event_kind
  std::vector<std::uint64_t> size_histogram;      // [i]: sizes in [2^(i-1), 2^i), [0]: size 0
  std::vector<std::uint64_t> lifetime_histogram;  // [i]: freed blocks living [10^(i-1), 10^i) us, [0]: < 1 us
  std::vector<double> rate_seconds;               // bins over the run: start time of each bin
  std::vector<double> allocations_per_second;     // in each bin
  std::vector<std::uint64_t> live_bytes;          // requested bytes live at each bin's end
  resolved_trace resolved;                        // counts (blocks and ops cleared)
  double bytes_per_event() const { return events == 0 ? 0 : double(file_bytes) / double(events); }
  double cross_thread_share() const {
    const double releases = double(resolved.frees + resolved.reallocs);
    return releases == 0 ? 0 : double(resolved.cross_thread) / releases;
  }
};

trace_summary summarize_trace(const trace_data& t, int rate_bins = 100);
nlohmann::json to_json(const trace_summary& s);
std::string to_table(const trace_summary& s);

}  // namespace allocbench::trace
