#!/usr/bin/env bash
# Records the allocations of a program (and of its child processes) into an allocbench trace.
#
#   tools/bazel run //tools:record -- --out=trace.abt [--no-children] -- <command ...>
#
# Runs <command> with liballocbench_record.so (//record) preloaded. The command's process writes
# --out; each child process (fork, exec) writes <out stem>.<pid>.abt beside it, unless --no-children.
# Relative paths are taken from where you ran `bazel run`, and the command runs there too.
# A program that is statically linked, or that exits through _exit or a signal, is not recorded (the
# last gives a file a reader rejects as cut short).
set -euo pipefail

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

out=""
children=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out=*) out="${1#--out=}" ;;
    --no-children) children=0 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "record: unknown flag $1 (put the command after --)" >&2; usage ;;
  esac
  shift
done
[ -n "$out" ] || { echo "record: --out=FILE is required" >&2; usage; }
[ $# -gt 0 ] || { echo "record: no command given after --" >&2; usage; }

# The library: beside this script in Bazel's runfiles, or in bazel-bin when run from the tree.
so=""
for candidate in \
  "${RUNFILES_DIR:-$0.runfiles}/allocbench/record/liballocbench_record.so" \
  "$0.runfiles/allocbench/record/liballocbench_record.so" \
  "$(dirname "$0")/../bazel-bin/record/liballocbench_record.so"; do
  if [ -f "$candidate" ]; then so="$(realpath "$candidate")"; break; fi
done
[ -n "$so" ] || { echo "record: liballocbench_record.so not found (build //record:liballocbench_record.so)" >&2; exit 1; }

cd "${BUILD_WORKING_DIRECTORY:-.}"
out="$(realpath -m "$out")"
mkdir -p "$(dirname "$out")"
rm -f "$out"
export ALLOCBENCH_RECORD_OUT="$out" ALLOCBENCH_RECORD_ROOT="$$" ALLOCBENCH_RECORD_CHILDREN="$children"
export LD_PRELOAD="$so${LD_PRELOAD:+:$LD_PRELOAD}"
# exec keeps this pid, so the command itself is the process that writes --out.
exec "$@"
