#include <fstream>
#include <stdexcept>

#include "bench/result_writers.h"

namespace allocbench::bench {
namespace {

template <typename T>
std::string opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v).dump() : std::string();
}

}  // namespace

void write_provenance_comments(std::ostream& out, const nlohmann::json& provenance) {
  for (const auto& [key, value] : provenance.items()) {
    out << "# " << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
}

void write_csv(const std::filesystem::path& file, const nlohmann::json& provenance,
               const std::vector<summary_row>& rows) {
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  write_provenance_comments(out, provenance);
  out << "allocator,family,backend,threads,reps,mops_median,mops_min,mops_max,ratio_to_glibc,"
         "allocate_p50_ns,allocate_p99_ns,allocate_p999_ns,deallocate_p50_ns,deallocate_p99_ns,"
         "deallocate_p999_ns,overhead_ratio,peak_live_bytes,peak_rss_kib,contention_events,consistent,"
         "peak_bytes_held,bytes_held\n";
  for (const summary_row& r : rows) {
    out << r.allocator << ',' << r.family << ',' << r.backend << ',' << r.threads << ',' << r.reps << ','
        << r.mops_median << ',' << r.mops_min << ',' << r.mops_max << ',' << opt(r.ratio_to_glibc) << ','
        << r.alloc_p50 << ',' << r.alloc_p99 << ',' << r.alloc_p999 << ',' << r.free_p50 << ',' << r.free_p99
        << ',' << r.free_p999 << ',' << opt(r.overhead_ratio) << ',' << opt(r.peak_live_bytes) << ','
        << r.peak_rss_kib << ',' << opt(r.contention_events) << ',' << (r.consistent ? "true" : "false") << ','
        << opt(r.peak_bytes_held) << ',' << opt(r.bytes_held) << "\n";
  }
}

}  // namespace allocbench::bench
