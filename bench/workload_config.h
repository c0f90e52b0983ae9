// allocbench::workload_config: one benchmark workload, read from configs/workloads/<name>.json.
//
// Schema (every object rejects fields it does not know, so a typo is an error, not a silent default):
//
//   { "name": "rl_small",                  required string
//     "description": "...",                optional string
//     "pattern": "live_set",               optional ("live_set"): how a thread's operations are shaped
//                                            live_set     - the origin report's loop: allocate while the
//                                                           live set is below live_cap and a draw is below
//                                                           allocate_probability, else free a live item
//                                            ring_handoff - thread i allocates blocks and hands them to
//                                                           thread i+1 (mod n) through a bounded queue;
//                                                           every free is of another thread's block
//                                            requests     - inference: requests whose per-token buffers
//                                                           grow, all freed when the request ends
//     "seed": 1,                           optional (1), non-negative integer; traces depend only on it
//     "threads": [1, 2, 4, 8, 16],         optional (that list), each 1..256
//     "ops_per_thread": 200000,            optional (200000), trace length per thread, >= 1
//     "min_seconds": 0.5,                  optional (0.5), >= 0: a timed run repeats the trace until this
//                                            long; 0 runs ops_per_thread operations once
//     "sizes": <sizes>,                    required: request sizes in bytes, each 1..1 GiB
//     "alignment": 16,                     optional (16), a power of two, at most 4096
//     "allocate_probability": 0.65,        optional (0.5), in (0, 1]
//     "live_cap": 4096,                    optional (4096), >= 1, most items a thread holds (live_set)
//     "lifetimes": [<lifetime>, ...],      optional ([{"kind": "random", "weight": 1}]), live_set only
//     "containers": {"raw": 1, "tensor": 0, "tensor_buffer": 0, "map": 0, "unordered_map": 0},
//                                          optional (raw only): weights of what carries an allocation:
//                                            raw           - allocate/deallocate on the resource
//                                            tensor        - a std::pmr::vector<float> of size/4 floats
//                                            tensor_buffer - an allocbench::tensor_buffer<float> of shape
//                                                            {size/4}, 64-byte aligned
//                                            map           - an entry of a std::pmr::map of pmr strings
//                                            unordered_map - the same in a std::pmr::unordered_map
//     "tensor_resize_probability": 0.0,    optional (0), in [0, 1): chance that an operation resizes a
//                                            live tensor or tensor_buffer to a freshly drawn size instead
//                                            (grow or shrink; the contents are kept)
//     "ring": {"queue_capacity": 256,      ring_handoff only: blocks in flight per thread pair, 1..65536
//              "batch": 1},                blocks handed over as one batch, 1..4096 and <= queue_capacity
//                                            (1: block by block). With batch > 1 each thread allocates
//                                            `batch` blocks into a batch, sends the full batch to the
//                                            next thread and then frees every block of one batch it
//                                            received (a learner freeing an actor's batch);
//                                            allocate_probability is not used then
//     "requests": {"in_flight": 4,         requests only: concurrent requests per thread, 1..1024
//                  "tokens": [16, 256],    tokens per request, uniform in [lo, hi], 1 <= lo <= hi <= 65536
//                  "token_floats": 64} }   floats the request's activation tensor (a tensor_buffer of
//                                            shape {tokens * token_floats}) grows by per token,
//                                            1..1048576, and tokens * token_floats < 2^32
//
//   <sizes> := {"buckets": [16, 32], "weights": [0.5, 0.5]}   weighted buckets (same length, weights > 0)
//            | {"uniform": [lo, hi]}                          uniform integers, 1 <= lo <= hi
//            | {"list": [24, 40, 72]}                         uniform choice from the list
//
//   <lifetime> := {"kind": "random", "weight": w}   freed when a free picks it (uniform over live items)
//               | {"kind": "fifo", "weight": w}     freed oldest-first when a free picks this class
//               | {"kind": "scoped", "weight": w, "ops": [lo, hi]}   freed exactly lo..hi operations later
//     each may carry its own "sizes" and "containers" (default: the workload's), e.g. long-lived
//     samples in tensor_buffers beside short-lived raw blocks.
//
// Limits beyond each field's own: the document nests at most kMaxJsonDepth (128) levels; the memory
// the workload needs at its largest thread count, estimated from its limits (traces, per-slot state,
// live blocks, blocks in flight, request buffers; bench/workload_memory.h), must fit a budget
// (kDefaultMemoryBudget, 8 GiB, unless the caller gives another).
//
// Errors: a bad file throws config_error (pmr/config_error.h) naming the file, the field's JSON path
// (e.g. "lifetimes[1].ops") and the reason. Parsing checks everything a run needs, so a bad config fails
// before any run starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace allocbench::bench {

enum class workload_pattern { live_set, ring_handoff, requests, trace };  // trace: bench/trace_workload.h
enum class lifetime_kind { random, fifo, scoped };
// The order is the index into workload_config::carrier_weights; tensor_buffer comes last so that the
// older carriers keep their indices.
enum class carrier { raw, tensor, map, unordered_map, tensor_buffer };
inline constexpr int kCarrierCount = 5;

struct size_distribution {
  enum class kind { buckets, uniform, list } type = kind::list;
  std::vector<std::uint32_t> values;  // buckets or list; {lo, hi} for uniform
  std::vector<double> weights;        // buckets only
};

struct lifetime_class {
  lifetime_kind kind = lifetime_kind::random;
  double weight = 1.0;
  std::uint32_t min_ops = 0, max_ops = 0;  // scoped only
  size_distribution sizes;
  double carrier_weights[kCarrierCount] = {1, 0, 0, 0, 0};  // what carries this class's items
};

struct workload_config {
  std::string name;
  std::string description;
  std::string source;  // the file it came from, for messages
  workload_pattern pattern = workload_pattern::live_set;
  std::uint64_t seed = 1;
  std::vector<int> threads{1, 2, 4, 8, 16};
  std::size_t ops_per_thread = 200000;
  double min_seconds = 0.5;
  size_distribution sizes;
  std::size_t alignment = 16;
  double allocate_probability = 0.5;
  std::size_t live_cap = 4096;
  std::vector<lifetime_class> lifetimes;
  double carrier_weights[kCarrierCount] = {1, 0, 0, 0, 0};  // indexed by carrier; lifetimes' default
  double tensor_resize_probability = 0.0;
  std::size_t queue_capacity = 256;
  std::size_t ring_batch = 1;  // ring.batch
  std::size_t requests_in_flight = 4;
  std::uint32_t min_tokens = 16, max_tokens = 256;
  std::uint32_t token_floats = 64;
  std::string trace_path;        // trace: the .abt file (bench/trace_workload.h)
  std::size_t trace_passes = 1;  // trace: replays per run
  nlohmann::json raw;  // the document as read, for the results' provenance
};

// What a workload may need in memory unless a caller allows more (see the schema above).
inline constexpr std::uint64_t kDefaultMemoryBudget = std::uint64_t{8} << 30;

// Parses a document; `source` is what errors name as the file; `memory_budget` in bytes.
workload_config parse_workload(const nlohmann::json& doc, const std::string& source,
                               std::uint64_t memory_budget = kDefaultMemoryBudget);

// Reads and parses a file.
workload_config load_workload(const std::filesystem::path& path,
                              std::uint64_t memory_budget = kDefaultMemoryBudget);

const char* pattern_name(workload_pattern p);

}  // namespace allocbench::bench
