#include "bench/programs/program_results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "bench/result_writers.h"

namespace allocbench::bench::programs {

namespace {

std::optional<double> ratio(double value, double reference) {
  if (reference <= 0) return std::nullopt;
  return value / reference;
}

const program_cell* find_cell(const std::vector<program_cell>& cells, const std::string& program,
                              const std::string& allocator) {
  for (const program_cell& c : cells) {
    if (c.program == program && c.allocator == allocator) return &c;
  }
  return nullptr;
}

}  // namespace

std::vector<program_cell> summarize_runs(const std::vector<run_record>& runs, const std::vector<std::string>& programs,
                                         const std::vector<std::string>& allocators,
                                         const std::vector<std::pair<std::string, std::string>>& skipped) {
  std::vector<program_cell> cells;
  for (const std::string& p : programs) {
    for (const std::string& a : allocators) {
      program_cell c;
      c.program = p;
      c.allocator = a;
      for (const auto& [name, why] : skipped) {
        if (name == a) c.skipped = why;
      }
      std::vector<double> wall, cpu, rss;
      for (const run_record& r : runs) {
        if (r.program != p || r.allocator != a) continue;
        if (!r.failure.empty()) {
          if (c.failure.empty()) c.failure = r.failure;
          continue;
        }
        wall.push_back(r.wall_seconds);
        cpu.push_back(r.cpu_seconds);
        rss.push_back(double(r.peak_rss_kib));
      }
      c.reps = static_cast<int>(wall.size());
      if (!wall.empty()) {
        c.wall_median = median(wall);
        c.wall_min = *std::min_element(wall.begin(), wall.end());
        c.wall_max = *std::max_element(wall.begin(), wall.end());
        c.cpu_median = median(cpu);
        c.rss_median_kib = median(rss);
      }
      cells.push_back(c);
    }
  }
  for (program_cell& c : cells) {
    const program_cell* g = find_cell(cells, c.program, "glibc");
    if (g == nullptr || !g->failure.empty() || g->reps == 0 || !c.failure.empty() || c.reps == 0) continue;
    c.wall_ratio = ratio(c.wall_median, g->wall_median);
    c.cpu_ratio = ratio(c.cpu_median, g->cpu_median);
    c.rss_ratio = ratio(c.rss_median_kib, g->rss_median_kib);
  }
  return cells;
}

std::vector<allocator_geomean> geomeans(const std::vector<program_cell>& cells, const std::vector<std::string>& allocators) {
  std::vector<allocator_geomean> out;
  for (const std::string& a : allocators) {
    allocator_geomean m{a, 0, std::nullopt, std::nullopt, std::nullopt};
    double wall = 0, cpu = 0, rss = 0;
    int n_cpu = 0;
    for (const program_cell& c : cells) {
      if (c.allocator != a || !c.wall_ratio || !c.rss_ratio) continue;
      ++m.programs;
      wall += std::log(*c.wall_ratio);
      rss += std::log(*c.rss_ratio);
      // A program whose CPU time rounds to zero has no meaningful CPU ratio.
      if (c.cpu_ratio && *c.cpu_ratio > 0) {
        cpu += std::log(*c.cpu_ratio);
        ++n_cpu;
      }
    }
    if (m.programs > 0) {
      m.wall = std::exp(wall / m.programs);
      m.rss = std::exp(rss / m.programs);
    }
    if (n_cpu > 0) m.cpu = std::exp(cpu / n_cpu);
    out.push_back(m);
  }
  return out;
}

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

struct metric {
  const char* title;
  double (*value)(const program_cell&);
  std::optional<double> (*ratio)(const program_cell&);
  std::optional<double> (*mean)(const allocator_geomean&);
  const char* format;
};

}  // namespace

void write_programs_table(std::ostream& out, const std::vector<program_cell>& cells,
                          const std::vector<allocator_geomean>& means, const std::vector<std::string>& programs,
                          const std::vector<std::string>& allocators, int reps) {
  const metric metrics[] = {
      {"wall time, s", [](const program_cell& c) { return c.wall_median; },
       [](const program_cell& c) { return c.wall_ratio; }, [](const allocator_geomean& m) { return m.wall; }, "%.3f"},
      {"user+system time, s", [](const program_cell& c) { return c.cpu_median; },
       [](const program_cell& c) { return c.cpu_ratio; }, [](const allocator_geomean& m) { return m.cpu; }, "%.3f"},
      {"peak RSS, MiB", [](const program_cell& c) { return c.rss_median_kib / 1024; },
       [](const program_cell& c) { return c.rss_ratio; }, [](const allocator_geomean& m) { return m.rss; }, "%.1f"},
  };
  for (const metric& m : metrics) {
    out << "\n" << m.title << " (median of " << reps << "; (x) = ratio to glibc)\n\n| program |";
    for (const std::string& a : allocators) out << ' ' << a << " |";
    out << "\n|---|";
    for (std::size_t i = 0; i < allocators.size(); ++i) out << "---|";
    out << "\n";
    for (const std::string& p : programs) {
      out << "| " << p << " |";
      for (const std::string& a : allocators) {
        const program_cell* c = find_cell(cells, p, a);
        if (c == nullptr || !c->skipped.empty()) {
          out << " skipped |";
        } else if (!c->failure.empty()) {
          out << " **FAILED** |";
        } else {
          out << ' ' << fmt(m.format, m.value(*c));
          if (a != "glibc" && m.ratio(*c)) out << " (" << fmt("%.2f", *m.ratio(*c)) << "x)";
          out << " |";
        }
      }
      out << "\n";
    }
    out << "| geometric mean |";
    for (const std::string& a : allocators) {
      const auto it = std::find_if(means.begin(), means.end(), [&](const allocator_geomean& g) { return g.allocator == a; });
      if (a == "glibc") {
        out << " 1 |";
      } else if (it != means.end() && m.mean(*it)) {
        out << ' ' << fmt("%.2f", *m.mean(*it)) << "x |";
      } else {
        out << " – |";
      }
    }
    out << "\n";
  }
  for (const program_cell& c : cells) {
    if (!c.failure.empty()) out << "\nFAILED: " << c.program << " under " << c.allocator << ": " << c.failure << "\n";
  }
  for (const std::string& a : allocators) {
    for (const program_cell& c : cells) {
      if (c.allocator == a && !c.skipped.empty()) {
        out << "\nskipped " << a << ": " << c.skipped << "\n";
        break;
      }
    }
  }
}

namespace {

std::string opt(const std::optional<double>& v) { return v ? fmt("%.4f", *v) : std::string(); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

nlohmann::json optional_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

void write_programs_csv(const std::filesystem::path& file, const nlohmann::json& provenance,
                        const std::vector<program_cell>& cells) {
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  write_provenance_comments(out, provenance);
  out << "program,allocator,reps,wall_s_median,wall_s_min,wall_s_max,cpu_s_median,peak_rss_kib_median,"
         "wall_ratio_to_glibc,cpu_ratio_to_glibc,rss_ratio_to_glibc,status\n";
  for (const program_cell& c : cells) {
    const std::string status = !c.skipped.empty() ? "skipped: " + c.skipped
                               : !c.failure.empty() ? "FAILED: " + c.failure
                                                    : "ok";
    out << c.program << ',' << c.allocator << ',' << c.reps << ',' << fmt("%.4f", c.wall_median) << ','
        << fmt("%.4f", c.wall_min) << ',' << fmt("%.4f", c.wall_max) << ',' << fmt("%.4f", c.cpu_median) << ','
        << fmt("%.0f", c.rss_median_kib) << ',' << opt(c.wall_ratio) << ',' << opt(c.cpu_ratio) << ','
        << opt(c.rss_ratio) << ',' << csv_field(status) << "\n";
  }
}

void write_programs_json(const std::filesystem::path& file, const nlohmann::json& provenance,
                         const nlohmann::json& settings, const std::vector<program_cell>& cells,
                         const std::vector<allocator_geomean>& means, const std::vector<run_record>& runs) {
  nlohmann::json summary = nlohmann::json::array();
  for (const program_cell& c : cells) {
    summary.push_back({{"program", c.program},
                       {"allocator", c.allocator},
                       {"reps", c.reps},
                       {"wall_s_median", c.wall_median},
                       {"wall_s_min", c.wall_min},
                       {"wall_s_max", c.wall_max},
                       {"cpu_s_median", c.cpu_median},
                       {"peak_rss_kib_median", c.rss_median_kib},
                       {"wall_ratio_to_glibc", optional_json(c.wall_ratio)},
                       {"cpu_ratio_to_glibc", optional_json(c.cpu_ratio)},
                       {"rss_ratio_to_glibc", optional_json(c.rss_ratio)},
                       {"failure", c.failure},
                       {"skipped", c.skipped}});
  }
  nlohmann::json gm = nlohmann::json::array();
  for (const allocator_geomean& m : means) {
    gm.push_back({{"allocator", m.allocator},
                  {"programs", m.programs},
                  {"wall_ratio", optional_json(m.wall)},
                  {"cpu_ratio", optional_json(m.cpu)},
                  {"rss_ratio", optional_json(m.rss)}});
  }
  nlohmann::json raw = nlohmann::json::array();
  for (const run_record& r : runs) {
    raw.push_back({{"program", r.program},
                   {"allocator", r.allocator},
                   {"rep", r.rep},
                   {"wall_s", r.wall_seconds},
                   {"cpu_s", r.cpu_seconds},
                   {"peak_rss_kib", r.peak_rss_kib},
                   {"failure", r.failure}});
  }
  const nlohmann::json doc = {
      {"provenance", provenance}, {"settings", settings}, {"summary", summary}, {"geomeans", gm}, {"runs", raw}};
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  out << doc.dump(1) << "\n";
}

}  // namespace allocbench::bench::programs
