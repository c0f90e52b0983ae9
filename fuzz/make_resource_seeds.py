#!/usr/bin/python3
"""Writes the resource fuzzer's seed corpus (testdata/fuzz/resource/): for every resource of
fuzz/fuzzed_layouts.h, with plain and small-chunk/checked options, a sequence that touches every
operation of fuzz/resource_fuzzer.cc once or more. Run from the repository root; deterministic."""
import os
import random

OUT = "testdata/fuzz/resource"
NAMES = ["scalable", "fixed_slab", "segregated_global", "segregated_per_class",
         "segregated_per_class_arena", "best_fit", "routing_best_fit", "routing_upstream"]


def alloc(rng, scale):
    # kind 0..2 = allocate; parameter (op >> 3) picks the size scale: <16 small, 16..27 raw, >=28 x16
    param = {"small": rng.randrange(0, 16), "medium": rng.randrange(16, 28), "large": rng.randrange(28, 32)}[scale]
    size = rng.randrange(0, 65536)
    align = rng.choice([0, 1, 2, 3, 4, 5, 6, 12])  # log2 of the alignment
    return [(param << 3) | rng.randrange(0, 3), size & 0xff, size >> 8, align]




def sequence(rng, which):
    ops = []
    for _ in range(40):
        ops += alloc(rng, "small")
    for _ in range(6):
        ops += alloc(rng, "medium")
    ops += alloc(rng, "large")
    ops += [3, 10, 0, rng.randrange(256)]                 # invalid alignment
    ops += [4, 0, 100, 0, 6]                              # SIZE_MAX - 100 @64 (issue 15, defect 1)
    ops += [4, 1, 0, 0, 3]                                # SIZE_MAX / 2 @8
    for _ in range(10):
        ops += [5, rng.randrange(256)]                    # frees
    ops += [(7 << 3) | 6]                                 # 8 blocks to a second thread
    for _ in range(10):
        ops += alloc(rng, "small")
    ops += [(0 << 3) | 7]                                 # join, compare stats
    ops += [(3 << 3) | 6]
    ops += [(2 << 3) | 7]                                 # join, free everything
    for _ in range(8):
        ops += alloc(rng, "small")
    ops += [(1 << 3) | 7]                                 # release
    for _ in range(8):
        ops += alloc(rng, "small")
    return ops


def main():
    os.makedirs(OUT, exist_ok=True)
    for which, name in enumerate(NAMES):
        for variant, options in (("plain", 0x00), ("small_checked", 0x83)):
            rng = random.Random(which * 2 + (options != 0))
            data = bytes([which, options] + sequence(rng, which))
            with open(os.path.join(OUT, f"{name}_{variant}.bin"), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
