"""Compiler flags every library target sets on itself.

A workspace that depends on @allocbench never reads our .bazelrc, so what the code needs to compile
at all lives on the targets: C++20 (constinit, among others). Warnings and
optimisation stay the builder's choice (.bazelrc for this project, the consumer's own flags elsewhere).
"""

ALLOCBENCH_COPTS = ["-std=c++20"]
