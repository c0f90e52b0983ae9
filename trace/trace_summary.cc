#include "trace/trace_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace allocbench::trace {
namespace {

std::size_t log2_bucket(std::uint64_t v) { return v == 0 ? 0 : std::size_t(64 - __builtin_clzll(v)); }

template <typename T>
void bump(std::vector<T>& v, std::size_t i, T by = 1) {
  if (v.size() <= i) v.resize(i + 1, 0);
  v[i] += by;
}

std::string fmt(const char* f, double a) {
  char b[64];
  std::snprintf(b, sizeof b, f, a);
  return b;
}

}  // namespace

trace_summary summarize_trace(const trace_data& t, int rate_bins) {
  trace_summary s;
  s.header = t.header;
  s.file_bytes = t.file_bytes;
  s.events = t.events();
  s.events_per_kind.assign(kLastKind + 1, 0);
  for (const thread_stream& ts : t.threads) {
    s.events_per_thread.push_back(ts.events.size());
    for (const event& e : ts.events) ++s.events_per_kind[std::size_t(e.kind)];
  }
  resolved_trace r = resolve_blocks(t);
  const double hz = double(t.header.clock_hz);
  const std::uint64_t span = r.last_ticks - r.first_ticks;
  s.seconds = double(span) / hz;
  const int bins = std::max(1, rate_bins);
  std::vector<std::int64_t> delta(std::size_t(bins), 0);
  std::vector<std::uint64_t> allocs(std::size_t(bins), 0);
  auto bin_of = [&](std::uint64_t ticks) {
    if (span == 0) return std::size_t(0);
    return std::min<std::size_t>(std::size_t(bins - 1), std::size_t(double(ticks - r.first_ticks) / double(span) * bins));
  };
  for (const resolved_block& b : r.blocks) {
    bump(s.size_histogram, log2_bucket(b.size));
    ++allocs[bin_of(b.alloc_ticks)];
    delta[bin_of(b.alloc_ticks)] += std::int64_t(b.size);
    if (b.freed) {
      delta[bin_of(b.free_ticks)] -= std::int64_t(b.size);
      const double us = double(b.free_ticks - b.alloc_ticks) / hz * 1e6;
      bump(s.lifetime_histogram, us < 1 ? 0 : std::size_t(std::floor(std::log10(us))) + 1);
    }
  }
  const double bin_seconds = s.seconds / bins;
  std::int64_t live = 0;
  for (int i = 0; i < bins; ++i) {
    s.rate_seconds.push_back(bin_seconds * i);
    s.allocations_per_second.push_back(bin_seconds > 0 ? double(allocs[std::size_t(i)]) / bin_seconds : 0);
    live += delta[std::size_t(i)];
    s.live_bytes.push_back(std::uint64_t(std::max<std::int64_t>(0, live)));
  }
  r.blocks.clear();
  r.threads.clear();
  s.resolved = std::move(r);
  return s;
}

nlohmann::json to_json(const trace_summary& s) {
  nlohmann::json kinds = nlohmann::json::object();
  for (std::size_t k = 1; k < s.events_per_kind.size(); ++k) {
    if (s.events_per_kind[k] != 0) kinds[kind_name(event_kind(k))] = s.events_per_kind[k];
  }
  const resolved_trace& r = s.resolved;
  return {{"program", s.header.program},
          {"pid", s.header.pid},
          {"start_unix_ns", s.header.start_unix_ns},
          {"clock_hz", s.header.clock_hz},
          {"file_bytes", s.file_bytes},
          {"events", s.events},
          {"bytes_per_event", s.bytes_per_event()},
          {"seconds", s.seconds},
          {"threads", s.events_per_thread.size()},
          {"events_per_thread", s.events_per_thread},
          {"events_per_kind", kinds},
          {"allocations", r.allocations},
          {"frees", r.frees},
          {"reallocs", r.reallocs},
          {"cross_thread", r.cross_thread},
          {"cross_thread_share", s.cross_thread_share()},
          {"live_at_end", r.live_at_end},
          {"unmatched_frees", r.unmatched_frees},
          {"reused_live", r.reused_live},
          {"peak_live_bytes", r.peak_live_bytes},
          {"size_histogram_log2", s.size_histogram},
          {"lifetime_histogram_log10_us", s.lifetime_histogram},
          {"rate_seconds", s.rate_seconds},
          {"allocations_per_second", s.allocations_per_second},
          {"live_bytes", s.live_bytes}};
}

std::string to_table(const trace_summary& s) {
  const resolved_trace& r = s.resolved;
  std::string o;
  auto row = [&](const std::string& k, const std::string& v) { o += k + std::string(k.size() < 22 ? 22 - k.size() : 1, ' ') + v + "\n"; };
  row("program", s.header.program);
  row("pid", std::to_string(s.header.pid));
  row("events", std::to_string(s.events) + " in " + std::to_string(s.file_bytes) + " bytes (" +
                    fmt("%.2f", s.bytes_per_event()) + " bytes per event)");
  row("duration", fmt("%.3f s", s.seconds) + fmt(" (clock %.3f GHz)", double(s.header.clock_hz) / 1e9));
  std::string per;
  for (std::uint64_t n : s.events_per_thread) per += (per.empty() ? "" : " ") + std::to_string(n);
  row("threads", std::to_string(s.events_per_thread.size()) + " (events each: " + per + ")");
  std::string kinds;
  for (std::size_t k = 1; k < s.events_per_kind.size(); ++k) {
    if (s.events_per_kind[k] != 0) kinds += std::string(kinds.empty() ? "" : ", ") + kind_name(event_kind(k)) + " " + std::to_string(s.events_per_kind[k]);
  }
  row("calls", kinds);
  row("allocations", std::to_string(r.allocations) + " (+ " + std::to_string(r.reallocs) + " reallocs), frees " + std::to_string(r.frees));
  row("cross-thread", std::to_string(r.cross_thread) + fmt(" (%.1f %% of frees and reallocs)", 100 * s.cross_thread_share()));
  row("peak live bytes", std::to_string(r.peak_live_bytes) + fmt(" (%.1f KiB, requested)", double(r.peak_live_bytes) / 1024));
  row("live at end", std::to_string(r.live_at_end) + " blocks");
  row("unmatched frees", std::to_string(r.unmatched_frees) + " (allocated before recording began)");
  o += "sizes (bytes)          count\n";
  for (std::size_t i = 0; i < s.size_histogram.size(); ++i) {
    if (s.size_histogram[i] == 0) continue;
    const std::string range = i == 0 ? "0" : std::to_string(std::uint64_t{1} << (i - 1)) + ".." + std::to_string((std::uint64_t{1} << i) - 1);
    o += "  " + range + std::string(range.size() < 20 ? 20 - range.size() : 1, ' ') + std::to_string(s.size_histogram[i]) + "\n";
  }
  o += "lifetimes (freed)      count\n";
  const char* names[] = {"< 1 us", "1-10 us", "10-100 us", "0.1-1 ms", "1-10 ms", "10-100 ms", "0.1-1 s", "1-10 s", "10-100 s"};
  for (std::size_t i = 0; i < s.lifetime_histogram.size(); ++i) {
    if (s.lifetime_histogram[i] == 0) continue;
    const std::string range = i < 9 ? names[i] : ">= 100 s";
    o += "  " + range + std::string(20 - range.size(), ' ') + std::to_string(s.lifetime_histogram[i]) + "\n";
  }
  return o;
}

}  // namespace allocbench::trace
