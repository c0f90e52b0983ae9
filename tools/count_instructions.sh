#!/usr/bin/env bash
# Instructions per 64 B allocate+deallocate pair, counted by callgrind (issue 4).
#
#   tools/count_instructions.sh            # from the repository root
#
# What is counted: every instruction the process executes (callgrind's Ir total) while it runs
# allocate(64, 16) followed by deallocate(p, 64, 16) through a std::pmr::memory_resource*, in a loop
# the compiler cannot devirtualise (tools/instruction_count/pair_loop.cc). So each pair includes the
# argument set-up, both vtable loads and indirect calls, the public allocate/deallocate wrappers, and
# everything the resource does inside them: for ours that is the thread-cache fast path with its
# statistics and scope hooks. The loop runs eight pairs per trip, so its own counter, compare and
# branch add 3/8 of an instruction per pair (that is the .4 in the figures).
# Each binary warms the path (4096 pairs) first, so lazily built caches are outside the loop.
#
# How: each resource runs twice, with N1 and N2 pairs; per pair = (Ir(N2) - Ir(N1)) / (N2 - N1), so
# process start-up, warm-up and exit cancel out. Callgrind counts are deterministic, unlike wall time.
# mimalloc, tcmalloc and jemalloc replace malloc when linked, so each runs in a binary of its own,
# through bench/peers' pmr wrapper (their aligned and sized entry points).
#
# Installs nothing beyond what tools/bazel installs (valgrind is among its packages).
set -euo pipefail

cd "$(dirname "$0")/.."
N1=${N1:-100000}
N2=${N2:-200000}

targets=(count_ours count_mimalloc count_tcmalloc count_jemalloc)
tools/bazel build -c opt "${targets[@]/#///tools/instruction_count:}" >&2
bin_dir=$(tools/bazel info -c opt bazel-bin 2>/dev/null)/tools/instruction_count

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Total instructions callgrind counted for one run: the "summary:" line of its output file.
total_instructions() {
  local binary=$1 resource=$2 pairs=$3 out="$work/callgrind.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin_dir/$binary" "$resource" "$pairs" \
    >/dev/null 2>"$work/valgrind.log" || { cat "$work/valgrind.log" >&2; return 1; }
  awk '/^summary:/ {print $2}' "$out"
}

# resource name, binary that can build it
rows=(
  "scalable count_ours"
  "scalable_checked count_ours"
  "scalable_guarded count_ours"
  "seed_baseline count_ours"
  "seed_sharded count_ours"
  "new_delete_resource count_ours"
  "synchronized_pool_resource count_ours"
  "unsynchronized_pool_resource count_ours"
  "mimalloc count_mimalloc"
  "tcmalloc count_tcmalloc"
  "jemalloc count_jemalloc"
)

printf '%-30s %14s\n' "resource" "instr/pair"
printf '%-30s %14s\n' "------------------------------" "--------------"
for row in "${rows[@]}"; do
  read -r resource binary <<<"$row"
  a=$(total_instructions "$binary" "$resource" "$N1")
  b=$(total_instructions "$binary" "$resource" "$N2")
  per_pair=$(awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" 'BEGIN {printf "%.1f", (b - a) / (n2 - n1)}')
  printf '%-30s %14s\n' "$resource" "$per_pair"
done
echo "(callgrind Ir per allocate(64,16)+deallocate(64,16) pair through memory_resource*, calls and" \
  "virtual dispatch included, loop unrolled 8x; difference of ${N2}- and ${N1}-pair runs)"
