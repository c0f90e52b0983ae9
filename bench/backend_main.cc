// A backend process: runs one workload against the allocators linked into this binary and prints
// the results as one JSON document on stdout (progress goes to stderr). Started by the driver
// (driver_main.cc), one process per peer library.
//
//   backend --list [--layout=F]...              prints this backend's allocator names, one a line
//   backend --workload=FILE --threads=1,2 --reps=3 [--ops=N | --min-seconds=S]
//           [--allocators=a,b] [--layout=F]...
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/allocator_registry.h"
#include "bench/backend_runner.h"
#include "bench/cli_args.h"
#include "bench/process_memory.h"
#include "bench/tsc_clock.h"

namespace ab = allocbench::bench;

int main(int argc, char** argv) {
  try {
    const ab::cli_args args(argc, argv);
    args.reject_unknown({"list", "layout", "workload", "threads", "reps", "ops", "min-seconds", "allocators",
                        "memory-budget-gib"});
    const std::vector<std::string> layouts = args.list("layout");
    const std::vector<ab::allocator_entry> entries = ab::backend_allocators(layouts);
    if (args.has("list")) {
      for (const ab::allocator_entry& e : entries) std::cout << e.name << '\n';
      return 0;
    }
    ab::backend_request req;
    req.workload = ab::load_workload(args.value("workload"), ab::memory_budget(args));
    ab::apply_run_overrides(args, req.workload, req.timing);
    req.threads = req.workload.threads;
    req.reps = args.integer_or("reps", 3);
    req.allocators = args.list("allocators");
    nlohmann::json out = ab::run_backend(req, entries);
    const ab::backend_description me = ab::this_backend();
    out["backend"] = me.name;
    out["library_version"] = me.library_version;
    out["process_peak_rss_kib"] = ab::peak_rss_kib();
    out["tsc_ns_per_tick"] = ab::tsc_ns_per_tick();
    out["timer_floor_ns"] = ab::tsc_floor_ns();
    std::cout << out.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "backend: %s\n", e.what());
    return 2;
  }
}
