#include <algorithm>
#include <cstdio>
#include <functional>
#include <set>

#include "bench/result_writers.h"

namespace allocbench::bench {
namespace {

std::string format(const char* fmt, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

}  // namespace

void write_table(std::ostream& out, const std::string& workload, const std::vector<summary_row>& rows) {
  std::set<int> thread_set;
  std::vector<std::string> allocators;
  std::size_t name_width = 9;
  for (const summary_row& r : rows) {
    thread_set.insert(r.threads);
    if (std::find(allocators.begin(), allocators.end(), r.allocator) == allocators.end()) {
      allocators.push_back(r.allocator);
      name_width = std::max(name_width, r.allocator.size());
    }
  }
  auto find = [&](const std::string& a, int t) -> const summary_row* {
    for (const summary_row& r : rows) {
      if (r.allocator == a && r.threads == t) return &r;
    }
    return nullptr;
  };
  // One row per allocator, one cell per thread count.
  auto per_thread = [&](const std::string& title, std::size_t cell,
                        const std::function<std::string(const summary_row&)>& cell_of) {
    out << "\n" << title << "\n" << std::string(name_width, ' ');
    for (int t : thread_set) out << pad(std::to_string(t) + (t == 1 ? " thread" : " threads"), cell);
    out << "\n";
    for (const std::string& a : allocators) {
      out << a << std::string(name_width - a.size(), ' ');
      for (int t : thread_set) {
        const summary_row* r = find(a, t);
        out << pad(r == nullptr ? "-" : cell_of(*r), cell);
      }
      out << "\n";
    }
  };
  per_thread(workload + ": Mops/s (allocations + frees per second), median of reps; (x) = ratio to glibc", 17,
             [&](const summary_row& r) {
               std::string c = format("%.2f", r.mops_median);
               if (r.ratio_to_glibc) c += format(" (%.2fx)", *r.ratio_to_glibc);
               if (!r.consistent) c += "!";
               return c;
             });

  // Memory and latency at the smallest thread count, where every allocator ran.
  const int t0 = thread_set.empty() ? 1 : *thread_set.begin();
  out << "\nat " << t0 << " thread(s): overhead ratio, peak live KiB, peak RSS KiB, allocate / deallocate ns p50 p99 p99.9"
         " (timer's own cost included: timer_floor_ns in the JSON)\n";
  for (const std::string& a : allocators) {
    const summary_row* r = find(a, t0);
    if (r == nullptr) continue;
    out << a << std::string(name_width - a.size(), ' ')
        << pad(r->overhead_ratio ? format("%.3f", *r->overhead_ratio) : "n/a", 9)
        << pad(r->peak_live_bytes ? format("%.0f", double(*r->peak_live_bytes) / 1024) : "n/a", 10)
        << pad(std::to_string(r->peak_rss_kib), 10) << "   "
        << format("%6.0f", r->alloc_p50) << format(" %6.0f", r->alloc_p99) << format(" %7.0f", r->alloc_p999) << "  /"
        << format("%6.0f", r->free_p50) << format(" %6.0f", r->free_p99) << format(" %7.0f", r->free_p999) << "\n";
  }
  // Memory and tails at every thread count (issue 11): a user picks on speed, memory and tails.
  const std::size_t wide = 23;  // room for "12345678 / 12345678"
  const auto mib = [](double bytes) { return format("%.1f", bytes / (1024 * 1024)); };
  per_thread("peak RSS MiB (ours: peak upstream bytes held / held once all was freed, MiB)", wide, [&](const summary_row& r) {
    std::string c = mib(double(r.peak_rss_kib) * 1024);
    if (r.peak_bytes_held && r.bytes_held) c += " (" + mib(double(*r.peak_bytes_held)) + "/" + mib(double(*r.bytes_held)) + ")";
    return c;
  });
  per_thread("allocate / deallocate p99.9 ns", wide, [&](const summary_row& r) {
    return format("%.0f", r.alloc_p999) + " / " + format("%.0f", r.free_p999);
  });

  bool all_consistent = true;
  for (const summary_row& r : rows) all_consistent = all_consistent && r.consistent;
  if (!all_consistent) out << "! = some repetition ended with allocations and frees out of balance\n";
}

}  // namespace allocbench::bench
