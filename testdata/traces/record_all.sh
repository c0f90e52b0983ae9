#!/usr/bin/env bash
# Re-records every trace of this folder, exactly as committed (run from the tree's root:
# testdata/traces/record_all.sh). The programs are Debian's: python3, sqlite3, xz-utils, g++.
set -euo pipefail
cd "$(dirname "$0")/../.."
record() { tools/bazel run --ui_event_filters=-info,-stdout --noshow_progress //tools:record -- "$@"; }
t=testdata/traces

# python3 with its small-object allocator off, so that every object is a malloc/free.
PYTHONMALLOC=malloc record --out=$t/python3_json.abt -- /usr/bin/python3 $t/json_workload.py >/dev/null
PYTHONMALLOC=malloc record --out=$t/python3_threads.abt -- /usr/bin/python3 $t/threads_workload.py >/dev/null
record --out=$t/sqlite3_query.abt -- sh -c "exec sqlite3 :memory: < $t/sqlite_workload.sql" >/dev/null

# xz with two worker threads on 4 MB of text, in 128 KiB blocks.
input=$(mktemp)
head -c 3000000 /dev/zero | tr '\0' a > "$input"
seq 1 300000 >> "$input"
record --out=$t/xz_t2.abt -- xz -T2 -1 --block-size=131072 -c "$input" >/dev/null
rm -f "$input"

# g++ runs cc1plus, as and collect2 as child processes, one trace each; the compiler proper's is kept.
dir=$(mktemp -d)
record --out="$dir/gxx.abt" -- g++ -O1 -c $t/compile_me.cc -o "$dir/compile_me.o"
for f in "$dir"/gxx.*.abt; do
  if bazel-bin/tools/trace_stats "$f" | head -1 | grep -q cc1plus; then cp "$f" $t/gxx_cc1plus.abt; fi
done
rm -rf "$dir"
ls -l $t/*.abt
