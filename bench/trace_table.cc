#include "bench/trace_table.h"

#include "bench/results.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace allocbench::bench {
namespace {

std::string cell(const char* fmt, double a) {
  char b[64];
  std::snprintf(b, sizeof b, fmt, a);
  return b;
}

}  // namespace

void write_trace_table(std::ostream& out, const std::string& workload, const std::vector<nlohmann::json>& outputs) {
  struct row {
    std::vector<double> mops, seconds, p50, p99, p999, held;
    double ideal = 0;
    std::uint64_t waits = 0;
    bool consistent = true;
  };
  std::vector<std::string> order;
  std::map<std::string, row> rows;
  for (const nlohmann::json& o : outputs) {
    for (const nlohmann::json& r : o.at("runs")) {
      if (!r.contains("trace")) continue;
      const std::string name = r.at("allocator").get<std::string>();
      if (rows.count(name) == 0) order.push_back(name);
      row& x = rows[name];
      const nlohmann::json& t = r.at("trace");
      x.mops.push_back(r.at("mops").get<double>());
      x.seconds.push_back(r.at("seconds").get<double>());
      x.p50.push_back(t.at("calls_ns").at("p50").get<double>());
      x.p99.push_back(t.at("calls_ns").at("p99").get<double>());
      x.p999.push_back(t.at("calls_ns").at("p999").get<double>());
      x.held.push_back(t.at("held_peak_bytes").get<double>());
      x.ideal = t.at("ideal_peak_bytes").get<double>();
      x.waits = std::max<std::uint64_t>(x.waits, t.at("remote_waits").get<std::uint64_t>());
      x.consistent = x.consistent && r.at("consistent").get<bool>();
    }
  }
  if (order.empty()) return;
  double glibc = 0;
  if (rows.count("glibc") != 0) glibc = median(rows["glibc"].mops);
  std::size_t width = 9;
  for (const std::string& n : order) width = std::max(width, n.size());
  out << "\n" << workload << " (trace replay): medians of reps; held = growth of peak RSS during the run "
      << "(max over reps), ideal = peak live requested bytes "
      << cell("%.0f KiB", rows[order[0]].ideal / 1024) << "\n";
  out << std::string(width, ' ') << "      Mops/s    replay ms   held KiB  held/ideal   call ns p50    p99  p99.9\n";
  for (const std::string& n : order) {
    const row& x = rows[n];
    const double held = *std::max_element(x.held.begin(), x.held.end());
    std::string m = cell("%.2f", median(x.mops));
    if (glibc > 0) m += cell(" (%.2fx)", median(x.mops) / glibc);
    if (!x.consistent) m += "!";
    char line[256];
    std::snprintf(line, sizeof line, "%18s %12.2f %10.0f %11.2f %14.0f %6.0f %6.0f", m.c_str(), median(x.seconds) * 1e3,
                  held / 1024, x.ideal > 0 ? held / x.ideal : 0.0, median(x.p50), median(x.p99), median(x.p999));
    out << n << std::string(width - n.size(), ' ') << line << "\n";
  }
}

}  // namespace allocbench::bench
