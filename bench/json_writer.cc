#include <fstream>
#include <stdexcept>

#include "bench/result_writers.h"

namespace allocbench::bench {

void write_json(const std::filesystem::path& file, const nlohmann::json& provenance, const nlohmann::json& settings,
                const std::vector<summary_row>& rows, const std::vector<nlohmann::json>& backend_outputs) {
  nlohmann::json summary = nlohmann::json::array();
  for (const summary_row& r : rows) summary.push_back(to_json(r));
  nlohmann::json doc = {{"provenance", provenance},
                        {"settings", settings},
                        {"summary", summary},
                        {"backends", backend_outputs}};
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  out << doc.dump(1) << "\n";
}

}  // namespace allocbench::bench
