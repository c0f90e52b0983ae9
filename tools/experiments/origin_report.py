"""The origin report's figures, as /work/shared/notes/seed-workloads.md records them (its Table 1, its
overhead ratios, and its repository rebuilt here with and without the debug pointer guard), so that
the report can set ours beside them. Throughput in Mops/s (millions of operations per second)."""

# Table 1 of the report: rl_small, ops/s by threads; None where the report gives no figure.
TABLE1 = {
    1: {"system": 13.7, "baseline": 14.0, "sharded": 16.2},
    2: {"system": 19.1, "baseline": 7.5, "sharded": 7.3},
    4: {"system": None, "baseline": 3.6, "sharded": 3.2},
    8: {"system": None, "baseline": 2.8, "sharded": 3.0},
    16: {"system": None, "baseline": 2.9, "sharded": 2.6},
}

# The report's overhead ratios (usable / requested bytes over all allocations).
OVERHEAD = {"rl_small": 1.18, "rl_medium": 1.00, "fragmentation_mix": 1.01, "alignment64": 1.72}

# Its repository built here and run with its own harness on rl_small, by threads: the default build
# (pointer guard on), -DNDEBUG (guard off), and glibc in the same harness.
REBUILT = {
    "guard": {"baseline": {1: 16.1, 2: 7.4, 16: 6.7}, "sharded": {1: 21.2, 2: 8.9, 16: 5.3}},
    "no_guard": {"baseline": {1: 19.0, 2: 35.4, 16: 30.8}, "sharded": {1: 25.6, 2: 35.0, 16: 31.1}},
    "glibc": {1: 29.8, 2: 44.4, 16: 40.8},
}

# Our allocators that stand for the report's: its system allocator, its two pools, and its pools with
# the debug pointer guard (the presets with "debug_pointer_guard": true, as configs/sweeps/seed_report.json
# names them).
ROLES = {"system": "glibc", "baseline": "seed_baseline", "sharded": "seed_sharded",
         "baseline_guard": "seed_baseline_guard", "sharded_guard": "seed_sharded_guard"}

WORKLOADS = ["rl_small", "rl_medium", "fragmentation_mix", "alignment64"]

NOTE = ("The report drew its random numbers inside the timed loop (a Mersenne Twister), so its throughput "
        "includes the generator; ours pre-generates traces so that only the allocator is timed. Compare "
        "shapes (scaling, ratios), not absolute Mops/s.")
