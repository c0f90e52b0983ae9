"""tools/bazel run //tools:merge -- --out=merged.csv a.csv b.csv ...   (or folders of *.csv)

Joins result files of one sweep (its shards, or runs on several machines) into one. Every row keeps
its own provenance (machine, commit, compiler). Refused, unless --allow-mixed:
  - rows made by different code (commit or allocbench version), or by different compilers;
  - rows of different sweeps or sweep-file versions (sweep hash), or the same run (cell) with another
    configuration (config hash).
The same run present twice with the same configuration (a shard run twice) is kept once.
"""
import os
import sys

import cli
import result_rows
from paths import user_path


class MergeRefused(Exception):
    pass


def expand_inputs(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(".csv"))
        else:
            files.append(p)
    if not files:
        raise MergeRefused("no result files given")
    return files


def _distinct(rows, key):
    out = {}
    for r in rows:
        out.setdefault(r[key], r["_file"])
    return out


def merge_rows(per_file, allow_mixed=False):
    """`per_file`: [(file name, rows)]. Returns the merged rows, or raises MergeRefused saying what
    differs and where."""
    rows = []
    for name, rs in per_file:
        for r in rs:
            r = dict(r)
            r["_file"] = name
            rows.append(r)
    problems = []
    for key, what in (("commit", "code versions (commit)"), ("allocbench_version", "allocbench versions"),
                      ("compiler", "compilers"), ("sweep_hash", "sweeps or sweep-file versions (sweep hash)")):
        seen = _distinct(rows, key)
        if len(seen) > 1:
            problems.append("%s differ: %s" % (what, "; ".join("%s in %s" % (v or "(empty)", f) for v, f in sorted(seen.items()))))
    by_cell = {}
    merged = []
    for r in rows:
        first = by_cell.get((r["sweep_hash"], r["cell"]))
        if first is None:
            by_cell[(r["sweep_hash"], r["cell"])] = r
            merged.append(r)
        elif first["config_hash"] != r["config_hash"]:
            problems.append("run %s has config %s in %s but %s in %s" % (r["cell"], first["config_hash"], first["_file"],
                                                                         r["config_hash"], r["_file"]))
    if problems and not allow_mixed:
        raise MergeRefused("refusing to merge (pass --allow-mixed to merge anyway; every row keeps its provenance):\n  "
                           + "\n  ".join(problems[:20]))
    for r in merged:
        del r["_file"]
    return merged


def main(argv):
    out, allow, inputs = None, False, []
    for a in argv:
        if a.startswith("--out="):
            out = user_path(a[len("--out="):])
        elif a == "--allow-mixed":
            allow = True
        elif a in ("--help", "-h"):
            print(__doc__)
            return 0
        elif a.startswith("--"):
            raise MergeRefused("unknown flag %s (known: --out=FILE, --allow-mixed)" % a)
        else:
            inputs.append(user_path(a))
    if out is None:
        raise MergeRefused("--out=FILE is required")
    files = [f for f in expand_inputs(inputs) if os.path.abspath(f) != os.path.abspath(out)]
    per_file = [(f, result_rows.read_rows(f)) for f in files]
    merged = merge_rows(per_file, allow)
    comments = ["merged from: " + ", ".join(os.path.basename(f) for f in files)]
    if allow:
        comments.append("--allow-mixed")
    result_rows.write_rows(out, merged, comments)
    sys.stderr.write("merge: %d rows from %d files into %s\n" % (len(merged), len(files), out))
    return 0


if __name__ == "__main__":
    cli.run_tool("merge", main, (MergeRefused, result_rows.ResultFileError, OSError))
