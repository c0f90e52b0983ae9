#!/usr/bin/env bash
# The recorder's overhead figures of README ("Record and replay"): wall time of each program with and
# without the preloaded recorder, runs interleaved (plain, recorded, plain, ...), medians of N, and
# bytes per event of the recorded trace.
#
#   record/measure_overhead.sh [N]        (from the tree's root, after building //record:all)
set -euo pipefail
n=${1:-7}
so=$(realpath "${RECORD_SO:-bazel-bin/record/liballocbench_record.so}")
bench=$(realpath "${OVERHEAD_BENCH:-bazel-bin/record/overhead_bench}")
stats=$(realpath "${TRACE_STATS:-bazel-bin/tools/trace_stats}")
work=$(mktemp -d)
t=$(realpath testdata/traces)

wall() {  # seconds of one run of "$@"
  local s e
  s=$(date +%s.%N)
  "$@" >/dev/null
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

measure() {  # name, command...
  local name=$1
  shift
  : >"$work/plain"
  : >"$work/rec"
  for _ in $(seq "$n"); do
    wall env "$@" >>"$work/plain"
    wall env ALLOCBENCH_RECORD_OUT="$work/$name.abt" ALLOCBENCH_RECORD_CHILDREN=0 LD_PRELOAD="$so" "$@" >>"$work/rec"
  done
  local p r
  p=$(median <"$work/plain")
  r=$(median <"$work/rec")
  local bpe
  bpe=$("$stats" "$work/$name.abt" | sed -n 's/.*(\([0-9.]*\) bytes per event).*/\1/p')
  local events
  events=$("$stats" "$work/$name.abt" | sed -n 's/^events *\([0-9]*\) .*/\1/p')
  printf '%-28s plain %7.3f s  recorded %7.3f s  slowdown %5.2fx  %9d events  %5.2f bytes/event\n' \
    "$name" "$p" "$r" "$(echo "$r / $p" | bc -l)" "$events" "$bpe"
}

measure overhead_bench_1_thread "$bench" 1 2000000
measure overhead_bench_2_threads "$bench" 2 1000000
measure python3_json PYTHONMALLOC=malloc /usr/bin/python3 "$t/json_workload.py"
measure python3_threads PYTHONMALLOC=malloc /usr/bin/python3 "$t/threads_workload.py"
measure sqlite3_query sh -c "exec sqlite3 :memory: < '$t/sqlite_workload.sql'"
rm -rf "$work"
