// The records of //bench:programs and their summary: medians per program and allocator, ratios to
// glibc, geometric means per allocator; and the three forms they are written in (a Markdown table on
// stdout, CSV and JSON files with the run's provenance).
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/results.h"

namespace allocbench::bench::programs {

// One timed run.
struct run_record {
  std::string program;
  std::string allocator;
  int rep = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;  // user + system, the child and its waited-for descendants
  long peak_rss_kib = 0;
  std::string failure;     // "" when it succeeded and its output matched glibc's
};

// One program under one allocator.
struct program_cell {
  std::string program;
  std::string allocator;
  int reps = 0;  // successful runs
  double wall_median = 0, wall_min = 0, wall_max = 0;
  double cpu_median = 0;
  double rss_median_kib = 0;
  std::optional<double> wall_ratio, cpu_ratio, rss_ratio;  // to glibc's medians
  std::string failure;   // the first failure ("" when none)
  std::string skipped;   // why the allocator did not run ("" when it did)
};

// The geometric mean, over the programs where both it and glibc succeeded, of the ratios to glibc.
struct allocator_geomean {
  std::string allocator;
  int programs = 0;
  std::optional<double> wall, cpu, rss;
};

using bench::median;  // bench/results.h

// `programs` and `allocators` give the order of rows and columns; `skipped` pairs an allocator with
// the reason it did not run.
std::vector<program_cell> summarize_runs(const std::vector<run_record>& runs, const std::vector<std::string>& programs,
                                         const std::vector<std::string>& allocators,
                                         const std::vector<std::pair<std::string, std::string>>& skipped);
std::vector<allocator_geomean> geomeans(const std::vector<program_cell>& cells, const std::vector<std::string>& allocators);

// Three Markdown tables (wall time, user+system time, peak RSS): programs as rows, allocators as
// columns, "median (ratio to glibc)", a geometric-mean row; FAILED or skipped cells say so.
void write_programs_table(std::ostream& out, const std::vector<program_cell>& cells,
                          const std::vector<allocator_geomean>& means, const std::vector<std::string>& programs,
                          const std::vector<std::string>& allocators, int reps);

void write_programs_csv(const std::filesystem::path& file, const nlohmann::json& provenance,
                        const std::vector<program_cell>& cells);

void write_programs_json(const std::filesystem::path& file, const nlohmann::json& provenance,
                         const nlohmann::json& settings, const std::vector<program_cell>& cells,
                         const std::vector<allocator_geomean>& means, const std::vector<run_record>& runs);

}  // namespace allocbench::bench::programs
