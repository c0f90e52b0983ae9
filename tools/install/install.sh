#!/usr/bin/env bash
# Installs AllocatorBench under a prefix: `tools/bazel run //:install -- --prefix=DIR` (see BUILD.bazel
# beside this file for what goes where). A relative DIR is taken from where the command was typed.
# Files are copied from this target's runfiles, where Bazel put the built libraries and headers.
set -euo pipefail

usage() { echo "usage: tools/bazel run //:install -- --prefix=DIR" >&2; exit 2; }

prefix="" version="" soname=""
for arg in "$@"; do
  case "$arg" in
    --prefix=*) prefix="${arg#--prefix=}" ;;
    --version=*) version="${arg#--version=}" ;;
    --soname=*) soname="${arg#--soname=}" ;;
    -h|--help) usage ;;
    *) echo "install: unknown argument '$arg'" >&2; usage ;;
  esac
done
[ -n "$prefix" ] || { echo "install: --prefix=DIR is required" >&2; usage; }
[ -n "$version" ] && [ -n "$soname" ] || { echo "install: run through Bazel (it passes --version and --soname)" >&2; exit 2; }

# `bazel run` starts here in the runfiles tree with the caller's directory in BUILD_WORKING_DIRECTORY;
# run directly (bazel-bin/tools/install/install) the runfiles are beside the script.
case "$prefix" in /*) ;; *) prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix" ;; esac
if [ ! -f tools/install/allocbench.pc ]; then
  cd "$0.runfiles/allocbench" 2>/dev/null || { echo "install: runfiles not found next to $0" >&2; exit 1; }
fi

include="$prefix/include/allocbench"
lib="$prefix/lib"
mkdir -p "$include/pmr" "$include/allocator" "$lib/pkgconfig" "$lib/cmake/allocbench"

# -L: runfiles are symlinks into Bazel's output tree; the prefix gets plain files.
cp -fL pmr/*.h "$include/pmr/"
cp -fL allocator/*.h "$include/allocator/"
chmod 644 "$include"/pmr/*.h "$include"/allocator/*.h

install -m 644 tools/install/liballocbench.a "$lib/liballocbench.a"
install -m 755 tools/install/liballocbench.so "$lib/liballocbench.so.$version"
ln -sfn "liballocbench.so.$version" "$lib/$soname"
ln -sfn "$soname" "$lib/liballocbench.so"

# The .pc file names its prefix; the CMake files find theirs from where they lie.
sed "s|@PREFIX@|$prefix|g" tools/install/allocbench.pc > "$lib/pkgconfig/allocbench.pc"
chmod 644 "$lib/pkgconfig/allocbench.pc"
install -m 644 tools/install/allocbench-config.cmake tools/install/allocbench-config-version.cmake \
  "$lib/cmake/allocbench/"

echo "installed allocbench $version under $prefix"
