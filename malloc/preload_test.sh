#!/usr/bin/env bash
# LD_PRELOAD=libscalable_malloc.so under programs someone else wrote: the output must be exactly the
# output without it, ALLOCBENCH_STATS=1 must print the figures at exit, and a bad ALLOCBENCH_LAYOUT
# must stop the program with a message naming the file and the field.
set -euo pipefail

lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
probe=$2
work=${TEST_TMPDIR:-$(mktemp -d)}
fail() { echo "FAIL: $*" >&2; exit 1; }

# Runs "$@" plain and preloaded; the two stdouts must be identical.
same_output() {
  "$@" >"$work/plain.out"
  LD_PRELOAD=$lib "$@" >"$work/ours.out" || fail "preloaded run of $* exited $?"
  cmp -s "$work/plain.out" "$work/ours.out" || { diff "$work/plain.out" "$work/ours.out" | head >&2; fail "output of $* differs"; }
}

seq 1 20000 | awk '{print ($1 * 7919) % 10007, $1}' >"$work/numbers.txt"
same_output /bin/ls -la /usr/lib
same_output sort -n "$work/numbers.txt"
same_output sort --parallel=2 -S 1M "$work/numbers.txt"
same_output /usr/bin/python3 -c '
import json, threading
d = {str(i): [i, str(i) * 3, {"k": i}] for i in range(20000)}
s = json.dumps(d, sort_keys=True)
out = [0] * 4
def work(n):
    out[n] = len(json.dumps({k: d[k] for k in list(d)[n::4]}, sort_keys=True))
ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(s), sum(out), sum(len(v[1]) for v in json.loads(s).values()))'

# operator new's failure path in a C++ program: its own new_handler is called and its own runtime
# catches the std::bad_alloc (the library's libstdc++ is a private copy: cxx_runtime.h).
same_output "$probe"
grep -qx 'handler_calls=1 caught=1 uncaught_after=0 nothrow_null=1' "$work/ours.out" ||
  { cat "$work/ours.out" >&2; fail "operator new did not use the program's new_handler and runtime"; }

# The figures at exit, on stderr, even from a program that closes stderr first (ls does).
ALLOCBENCH_STATS=1 LD_PRELOAD=$lib /bin/ls / 2>"$work/stats.err" >/dev/null
grep -Eq '^scalable_malloc stats: allocations=[1-9][0-9]* ' "$work/stats.err" || { cat "$work/stats.err" >&2; fail "no statistics"; }

# A layout of one's own, and a bad one.
cat >"$work/small.json" <<'JSON'
{"name": "small", "resource": {"type": "scalable", "max_small": 2048, "span_bytes": 16384}}
JSON
same_output env ALLOCBENCH_LAYOUT="$work/small.json" sort -n "$work/numbers.txt"
cat >"$work/slab.json" <<'JSON'
{"name": "slab", "resource": {"type": "fixed_slab", "block_size": 32}}
JSON
if ALLOCBENCH_LAYOUT="$work/slab.json" LD_PRELOAD=$lib /bin/true 2>"$work/bad.err"; then
  fail "a fixed_slab layout was accepted"
fi
grep -q "scalable_malloc: ALLOCBENCH_LAYOUT: $work/slab.json: resource.type: " "$work/bad.err" ||
  { cat "$work/bad.err" >&2; fail "the error does not name the file and field"; }
echo PASS
