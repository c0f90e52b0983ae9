// The "trace" workload pattern: a recorded program (an .abt file, see trace/trace_format.h) replayed
// against each allocator.
//
//   { "name": "python3_json",           required string
//     "description": "...",             optional
//     "pattern": "trace",
//     "path": "../../testdata/traces/python3_json.abt",   required: relative to this config's folder
//     "passes": 1 }                     optional (1), 1..1000: replays per run, back to back, with one
//                                         barrier between passes (not within one)
//
// The file is read and checked while the config is parsed (a bad trace is a config_error on "path"
// quoting the reader's offset and reason); the workload's threads are the trace's.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "bench/workload_config.h"
#include "pmr/json_fields.h"
#include "trace/block_resolver.h"

namespace allocbench::bench {

// Called by parse_workload when "pattern" is "trace".
workload_config parse_trace_workload(const json_fields& root, workload_config w);

// Writes <dir>/<trace stem>.workload.json, a trace workload for `trace_file` (absolute path), and
// returns its path: what `//bench:replay -- --trace=FILE` runs.
std::string write_trace_workload(const std::string& trace_file, const std::filesystem::path& dir);

// The trace, read and resolved into blocks (what a replay runs).
std::shared_ptr<const trace::resolved_trace> load_replay(const workload_config& w);

}  // namespace allocbench::bench
