#!/usr/bin/env bash
# A 6-second soak: every line of its report is there in its format, the CSV has one row per sample,
# threads were ended and replaced, and nothing is live once the workload has stopped. The verdict's
# value is not asserted: six seconds are mostly warm-up, and the criterion itself is tested in
# trend_test.cc; whether scalable stays bounded is what a long run (tools/soak 600) shows.
set -euo pipefail
soak=$1
csv="${TEST_TMPDIR:-/tmp}/soak.csv"
out=$("$soak" 6 --threads=8 --csv="$csv")
echo "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }

[ "$(grep -cE '^t= +[0-9]+ s  rss +[0-9.]+ MiB  held +[0-9.]+ MiB  live +[0-9.]+ MiB  held/live +[0-9.]+  threads +[0-9]+  ops +[0-9.]+ M$' <<<"$out")" = 6 ] \
  || fail "expected 6 progress lines"
grep -qE '^workload: [0-9]+ threads started and ended, [0-9.]+ M block operations, [0-9.]+ M cross-thread frees$' <<<"$out" \
  || fail "no workload line"
grep -qE '^steady state: 3 samples over [0-9]+ s \(second half\); held slope [-+][0-9]+ B/s \([-+][0-9.]+ %/min of the mean [0-9.]+ MiB\)$' <<<"$out" \
  || fail "no steady state line"
grep -qE '^verdict: (BOUNDED|NOT BOUNDED) \(criterion: .*\)$' <<<"$out" || fail "no verdict line"
grep -qE '^end: held [0-9.]+ MiB, live [0-9.]+ MiB, held/live [0-9.]+, rss [0-9.]+ MiB; after freeing everything: live 0 blocks, held [0-9.]+ MiB$' <<<"$out" \
  || fail "no end line, or blocks still live after the stop"
[ "$(head -1 "$csv")" = "t_s,rss_bytes,held_bytes,live_bytes,threads_started,operations,cross_thread_frees" ] || fail "CSV header"
[ "$(wc -l <"$csv")" = 7 ] || fail "CSV rows: expected 6 samples"
threads=$(sed -n 's/^workload: \([0-9]*\) threads.*/\1/p' <<<"$out")
[ "$threads" -gt 8 ] || fail "no thread was ended and replaced ($threads started for 8 slots)"
echo PASS
