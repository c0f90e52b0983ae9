#!/bin/bash
# Concatenates the per-test lcov reports named in --reports_file into --output_file.
set -euo pipefail
reports=""; output=""
for arg in "$@"; do
  case "$arg" in
    --reports_file=*) reports="${arg#*=}" ;;
    --output_file=*) output="${arg#*=}" ;;
  esac
done
[ -n "$output" ] || exit 0
: > "$output"
[ -n "$reports" ] || exit 0
while read -r report; do
  [ -f "$report" ] && cat "$report" >> "$output"
done < "$reports"
