#!/bin/bash
# Called by `bazel coverage` once per test: converts gcc's *.gcov.json.gz files under
# $COVERAGE_DIR into one lcov file at $COVERAGE_OUTPUT_FILE.
set -euo pipefail
out="${COVERAGE_OUTPUT_FILE:-/dev/stdout}"
: > "$out"
[ -n "${COVERAGE_DIR:-}" ] || exit 0
find "$COVERAGE_DIR" -name '*.gcov.json.gz' -print0 | xargs -0 -r /usr/bin/python3 -c '
import gzip, json, sys
for path in sys.argv[1:]:
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    for src in data.get("files", []):
        print("SF:" + src["file"])
        for line in src.get("lines", []):
            print("DA:%d,%d" % (line["line_number"], line["count"]))
        print("end_of_record")
' >> "$out"
