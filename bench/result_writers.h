// The three forms of a workload's results: a table for the terminal, and CSV and JSON files that each
// carry the run's provenance (provenance.h).
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/results.h"

namespace allocbench::bench {

// Allocators as rows, thread counts as columns: median Mops/s and the ratio to glibc; then overhead
// ratio, peak live bytes and latency at one thread.
void write_table(std::ostream& out, const std::string& workload, const std::vector<summary_row>& rows);

// The run's provenance as "# key: value" lines, which CSV readers can be told to skip
// (pandas: comment='#'); every CSV file of the benchmark starts with them.
void write_provenance_comments(std::ostream& out, const nlohmann::json& provenance);

// One line per allocator x threads, after "# key: value" provenance lines.
void write_csv(const std::filesystem::path& file, const nlohmann::json& provenance,
               const std::vector<summary_row>& rows);

// Everything: provenance, settings, the summary and every backend's raw records.
void write_json(const std::filesystem::path& file, const nlohmann::json& provenance, const nlohmann::json& settings,
                const std::vector<summary_row>& rows, const std::vector<nlohmann::json>& backend_outputs);

}  // namespace allocbench::bench
