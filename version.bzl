"""AllocatorBench's version: the one place it is written.

pmr/version.h (ALLOCBENCH_VERSION), the shared library's soname, allocbench.pc, the CMake package
files and the benchmark provenance all take it from here.
"""

ALLOCBENCH_VERSION = "0.1.0"

# The soname carries the major version: liballocbench.so.0 for every 0.x.y.
ALLOCBENCH_VERSION_MAJOR = ALLOCBENCH_VERSION.split(".")[0]
