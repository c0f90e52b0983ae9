// The measured loop: allocate(64, 16) + deallocate(64, 16) pairs through a std::pmr::memory_resource*.
#pragma once

#include <memory_resource>

namespace allocbench::instruction_count {

// Runs n pairs through r. Compiled in its own translation unit and never inlined, and r is laundered
// through a volatile pointer before the loop, so the calls stay real virtual calls that the compiler
// cannot devirtualise: the count is what a caller holding only a memory_resource* pays.
void run_pairs(std::pmr::memory_resource* r, long n);

}  // namespace allocbench::instruction_count
