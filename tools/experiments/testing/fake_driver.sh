#!/bin/sh
# A stand-in for the benchmark driver in the sweep's tests (sweep --runner=...): takes the driver's
# flags and writes <out>/<workload>.json as the driver does, with figures made from the flags; runs no
# benchmark. A shell script, so that the tests' many runs start fast.
#
# Environment: FAKE_LOG (a file: one line per call, the flags then the workload and layout files'
# contents), FAKE_FAIL_AT=N (the Nth call, counted in FAKE_LOG, exits 3 without writing: an
# interrupted sweep), FAKE_COMMIT (the commit it reports; default c0ffee).
set -eu
workload="" layout="" allocator="" threads="" out=""
for a in "$@"; do
  case "$a" in
    --workload=*) workload="${a#--workload=}" ;;
    --layout=*) layout="${a#--layout=}" ;;
    --allocators=*) allocator="${a#--allocators=}" ;;
    --threads=*) threads="${a#--threads=}" ;;
    --out=*) out="${a#--out=}" ;;
  esac
done
contents="workload=$(cat "$workload")"
[ -z "$layout" ] || contents="$contents layout=$(cat "$layout")"
calls=0
if [ -n "${FAKE_LOG:-}" ]; then
  echo "$* $contents" >> "$FAKE_LOG"
  calls=$(wc -l < "$FAKE_LOG")
fi
if [ -n "${FAKE_FAIL_AT:-}" ] && [ "$calls" -eq "$FAKE_FAIL_AT" ]; then
  echo "fake driver: interrupted" >&2
  exit 3
fi
# The sweep writes the workload as compact JSON with "name" first.
name=$(sed -n 's/^{"name": "\([^"]*\)".*/\1/p' "$workload")
sum=$(printf '%s' "$allocator $contents" | cksum | cut -d' ' -f1)
mops="$((10 + sum % 50 + threads)).5"
family=ours
[ "$allocator" != glibc ] || family=peer
mkdir -p "$out"
cat > "$out/$name.json" <<JSON
{"provenance": {"commit": "${FAKE_COMMIT:-c0ffee}", "allocbench_version": "0.0.0", "compiler": "gcc 12.2.0",
  "bazel_version": "bazel-bootstrap 4.2.3", "cpu_model": "fake cpu", "cores": 2, "date_utc": "2026-12-03T00:00:00Z"},
 "summary": [{"allocator": "$allocator", "family": "$family", "threads": $threads, "mops_median": $mops,
   "allocate_ns": {"p50": 20, "p99": 80, "p999": 400}, "deallocate_ns": {"p50": 18, "p99": 70, "p999": 300},
   "overhead_ratio": 1.1, "peak_live_bytes": 1048576, "peak_rss_kib": 4096, "contention_events": 0,
   "consistent": true}]}
JSON
