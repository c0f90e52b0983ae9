#include "bench/results.h"

#include <algorithm>
#include <map>

namespace allocbench::bench {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<summary_row> summarize(const std::vector<nlohmann::json>& outputs) {
  std::vector<std::string> order;
  std::map<std::pair<std::string, int>, std::vector<const nlohmann::json*>> runs;
  std::map<std::pair<std::string, int>, const nlohmann::json*> measures;
  std::map<std::string, std::string> backend_of;
  for (const nlohmann::json& out : outputs) {
    for (const nlohmann::json& r : out.at("runs")) {
      const std::string name = r.at("allocator").get<std::string>();
      if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
      backend_of[name] = out.at("backend").get<std::string>();
      runs[{name, r.at("threads").get<int>()}].push_back(&r);
    }
    for (const nlohmann::json& m : out.at("measures")) {
      measures[{m.at("allocator").get<std::string>(), m.at("threads").get<int>()}] = &m;
    }
  }
  std::vector<summary_row> rows;
  for (const std::string& name : order) {
    for (const auto& [key, reps] : runs) {
      if (key.first != name) continue;
      summary_row row;
      row.allocator = name;
      row.backend = backend_of[name];
      row.threads = key.second;
      row.reps = int(reps.size());
      row.family = reps.front()->at("family").get<std::string>();
      std::vector<double> mops, a50, a99, a999, f50, f99, f999, overhead, peak_live, rss, contention;
      std::vector<double> peak_held, held;
      for (const nlohmann::json* r : reps) {
        mops.push_back(r->at("mops").get<double>());
        a50.push_back(r->at("allocate_ns").at("p50").get<double>());
        a99.push_back(r->at("allocate_ns").at("p99").get<double>());
        a999.push_back(r->at("allocate_ns").at("p999").get<double>());
        f50.push_back(r->at("deallocate_ns").at("p50").get<double>());
        f99.push_back(r->at("deallocate_ns").at("p99").get<double>());
        f999.push_back(r->at("deallocate_ns").at("p999").get<double>());
        rss.push_back(r->at("peak_rss_kib").get<double>());
        if (r->contains("overhead_ratio")) overhead.push_back(r->at("overhead_ratio").get<double>());
        if (r->contains("peak_live_bytes")) peak_live.push_back(r->at("peak_live_bytes").get<double>());
        if (r->contains("contention_events")) contention.push_back(r->at("contention_events").get<double>());
        if (r->contains("peak_bytes_held")) peak_held.push_back(r->at("peak_bytes_held").get<double>());
        if (r->contains("bytes_held")) held.push_back(r->at("bytes_held").get<double>());
        row.consistent = row.consistent && r->at("consistent").get<bool>();
      }
      row.mops_median = median(mops);
      row.mops_min = *std::min_element(mops.begin(), mops.end());
      row.mops_max = *std::max_element(mops.begin(), mops.end());
      row.alloc_p50 = median(a50);
      row.alloc_p99 = median(a99);
      row.alloc_p999 = median(a999);
      row.free_p50 = median(f50);
      row.free_p99 = median(f99);
      row.free_p999 = median(f999);
      row.peak_rss_kib = std::uint64_t(median(rss));
      if (!overhead.empty()) row.overhead_ratio = median(overhead);
      if (!peak_live.empty()) row.peak_live_bytes = std::uint64_t(median(peak_live));
      if (!contention.empty()) row.contention_events = std::uint64_t(median(contention));
      if (!peak_held.empty()) row.peak_bytes_held = std::uint64_t(median(peak_held));
      if (!held.empty()) row.bytes_held = std::uint64_t(median(held));
      if (auto it = measures.find(key); it != measures.end()) {
        row.overhead_ratio = it->second->at("overhead_ratio").get<double>();
        row.peak_live_bytes = it->second->at("peak_live_bytes").get<std::uint64_t>();
      }
      rows.push_back(std::move(row));
    }
  }
  for (summary_row& row : rows) {
    for (const summary_row& g : rows) {
      if (g.allocator == "glibc" && g.threads == row.threads && g.mops_median > 0) {
        row.ratio_to_glibc = row.mops_median / g.mops_median;
      }
    }
  }
  return rows;
}

nlohmann::json to_json(const summary_row& r) {
  nlohmann::json j = {{"allocator", r.allocator},
                      {"family", r.family},
                      {"backend", r.backend},
                      {"threads", r.threads},
                      {"reps", r.reps},
                      {"mops_median", r.mops_median},
                      {"mops_min", r.mops_min},
                      {"mops_max", r.mops_max},
                      {"allocate_ns", {{"p50", r.alloc_p50}, {"p99", r.alloc_p99}, {"p999", r.alloc_p999}}},
                      {"deallocate_ns", {{"p50", r.free_p50}, {"p99", r.free_p99}, {"p999", r.free_p999}}},
                      {"peak_rss_kib", r.peak_rss_kib},
                      {"consistent", r.consistent}};
  j["overhead_ratio"] = r.overhead_ratio ? nlohmann::json(*r.overhead_ratio) : nlohmann::json(nullptr);
  j["peak_live_bytes"] = r.peak_live_bytes ? nlohmann::json(*r.peak_live_bytes) : nlohmann::json(nullptr);
  j["contention_events"] = r.contention_events ? nlohmann::json(*r.contention_events) : nlohmann::json(nullptr);
  j["peak_bytes_held"] = r.peak_bytes_held ? nlohmann::json(*r.peak_bytes_held) : nlohmann::json(nullptr);
  j["bytes_held"] = r.bytes_held ? nlohmann::json(*r.bytes_held) : nlohmann::json(nullptr);
  j["ratio_to_glibc"] = r.ratio_to_glibc ? nlohmann::json(*r.ratio_to_glibc) : nlohmann::json(nullptr);
  return j;
}

}  // namespace allocbench::bench
