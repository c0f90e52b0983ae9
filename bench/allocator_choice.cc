#include "bench/allocator_choice.h"

#include <algorithm>
#include <stdexcept>

namespace allocbench::bench {

std::vector<std::string> choose_allocators(const std::vector<std::string>& requested,
                                           const std::vector<std::string>& known) {
  if (requested.empty()) return known;
  const auto has = [](const std::vector<std::string>& v, const std::string& a) {
    return std::find(v.begin(), v.end(), a) != v.end();
  };
  for (const std::string& a : requested) {
    if (has(known, a)) continue;
    std::string list;
    for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
    throw std::invalid_argument("--allocators: unknown allocator '" + a + "' (known: " + list + ")");
  }
  std::vector<std::string> chosen = requested;
  for (const std::string& k : known) {
    if (k.rfind("layout:", 0) == 0 && !has(chosen, k)) chosen.push_back(k);
  }
  return chosen;
}

}  // namespace allocbench::bench
