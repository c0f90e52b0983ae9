// The replay table of a trace workload, printed by the driver below the usual one: throughput, replay
// time, peak bytes held against the ideal, and the time-per-call distribution, per allocator.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace allocbench::bench {

void write_trace_table(std::ostream& out, const std::string& workload, const std::vector<nlohmann::json>& outputs);

}  // namespace allocbench::bench
