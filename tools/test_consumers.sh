#!/usr/bin/env bash
# Installs AllocatorBench into a temporary prefix and builds and runs the three example consumers
# (examples/): a Bazel workspace using the tree as an external repository, a CMake project and a
# pkg-config Makefile against the prefix, all with -Wall -Wextra -Werror. Also compiles every installed
# header in one translation unit with those flags, so a warning or a header missing from the install
# fails here. Exits non-zero at the first failure. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The tools the consumers use, installed the way tools/bazel installs its own (only when missing).
declare -A marker=([cmake]=/usr/bin/cmake [pkg-config]=/usr/bin/pkg-config [make]=/usr/bin/make)
missing=()
for pkg in "${!marker[@]}"; do [ -e "${marker[$pkg]}" ] || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "test_consumers: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/allocbench_consumers.XXXXXX")
bazel_real="${BAZEL_REAL:-/usr/bin/bazel-4}"
consumer_bazel() { (cd "$root/examples/bazel_consumer" && "$bazel_real" --output_base="$work/bazel_output" "$@"); }
cleanup() {
  # The consumer's Bazel server holds its output base; Bazel makes parts of it read-only.
  [ -d "$work/bazel_output" ] && consumer_bazel shutdown >/dev/null 2>&1 || true
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo; echo "--- test_consumers: $*"; }
prefix="$work/prefix"
strict=(-Wall -Wextra -Werror)

step "install into $prefix"
tools/bazel run //:install -- --prefix="$prefix"

step "every installed header, one translation unit, ${strict[*]}"
for h in "$prefix"/include/allocbench/{pmr,allocator}/*.h; do
  echo "#include \"${h#"$prefix/include/allocbench/"}\""
done > "$work/all_headers.cc"
g++ -std=c++20 "${strict[@]}" -fsyntax-only -I"$prefix/include/allocbench" "$work/all_headers.cc"

step "cmake consumer (static library, and shared: allocbench::pmr_shared)"
cmake -S examples/cmake_consumer -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake"
"$work/cmake/consumer"
"$work/cmake/consumer_shared"

step "pkg-config consumer (shared library)"
# Built in $work (-C), from the Makefile in the tree, so that nothing is written into the tree.
mkdir "$work/pkgconfig"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" make -C "$work/pkgconfig" -f "$root/examples/pkgconfig_consumer/Makefile"
# It must have linked the installed shared library, by its soname.
readelf -d "$work/pkgconfig/consumer" | grep -q 'NEEDED.*liballocbench\.so\.[0-9]' || {
  echo "test_consumers: the pkg-config consumer did not link liballocbench.so" >&2; exit 1; }
"$work/pkgconfig/consumer"

step "bazel consumer (external repository, the consumer's flags plus ${strict[*]})"
# Its own output base (a workspace has one server); no convenience symlinks in the source tree.
# --copt applies the warnings to our library's sources too, compiled with the consumer's defaults.
consumer_bazel run --nosandbox_debug --symlink_prefix=/ "${strict[@]/#/--copt=}" //:consumer

step "all three consumers passed"
