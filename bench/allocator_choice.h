// Which allocators a driver run measures, from --allocators and what the backends offer.
#pragma once

#include <string>
#include <vector>

namespace allocbench::bench {

// `requested` (from --allocators; empty: every known one), each checked against `known` (the
// backends' names; std::invalid_argument naming the unknown one and listing the known). Layouts
// given with --layout are known as "layout:<file stem>"; the help promises they "also run", so one
// that `requested` does not name is added at the end rather than silently left out.
std::vector<std::string> choose_allocators(const std::vector<std::string>& requested,
                                           const std::vector<std::string>& known);

}  // namespace allocbench::bench
