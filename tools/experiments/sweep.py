"""tools/bazel run //tools:sweep -- configs/sweeps/<name>.json [flags]

Runs a sweep (tools/experiments/sweep_spec.py says what a sweep file holds) one run at a time through
the benchmark driver (//bench), appending one row per run to a CSV as it goes. Run again, it skips the
rows already there. A changed sweep file is refused unless --restart is given.

  --out=FILE          the result file (default: bench/results/sweeps/<name>.csv, or
                      <name>.shard-<i>-of-<n>.csv with --shard)
  --shard=i/n         run only shard i of n (0 <= i < n): for a Slurm array or any batch scheduler;
                      join the shards' files with //tools:merge
  --restart           start afresh when the file holds rows of another sweep (kept as FILE.old)
  --dry-run           list the runs and exit
  --runner=CMD        run CMD (split on spaces) in place of the driver; it gets the driver's flags
  --toolchain-lock=F  the lock to check against (default: toolchain.lock at the top of the tree)
  --write-toolchain-lock  write this machine's versions to the lock and exit
"""
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import cli
import result_rows
import sweep_spec
import toolchain_lock
from paths import runfiles_root, source_tree, user_path


class SweepRefused(Exception):
    pass


def parse_flags(argv):
    positional, flags = [], {}
    for a in argv:
        if a.startswith("--"):
            key, _, value = a[2:].partition("=")
            if key not in ("out", "shard", "restart", "dry-run", "runner", "toolchain-lock", "write-toolchain-lock", "help"):
                raise ValueError("unknown flag --%s (see --help)" % key)
            flags[key] = value
        else:
            positional.append(a)
    return positional, flags


def format_seconds(s):
    s = int(round(s))
    if s >= 3600:
        return "%dh%02dm" % (s // 3600, s % 3600 // 60)
    if s >= 60:
        return "%dm%02ds" % (s // 60, s % 60)
    return "%ds" % s


class Progress(object):
    """A bar with the count, elapsed time and ETA on stderr; redrawn in place on a terminal, one line
    per run otherwise (logs of batch jobs)."""

    def __init__(self, total, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def show(self, label, finished=False):
        if not self.tty and not finished:
            return  # a log gets one line per finished run
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else None
        width = 30
        filled = width * self.done // max(1, self.total)
        line = "[%s%s] %d/%d  %s elapsed  ETA %s  %s" % ("#" * filled, "." * (width - filled), self.done, self.total,
                                                        format_seconds(elapsed), format_seconds(eta) if eta is not None else "?",
                                                        label)
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self, label):
        self.done += 1
        self.show(label, finished=True)

    def close(self):
        if self.tty:
            self.stream.write("\n")


def machine_name():
    return socket.gethostname()


def driver_command(run, work, timing):
    """The driver's flags for one run; writes the run's workload (and layout) files into `work`."""
    workload_file = os.path.join(work, "workload.json")
    with open(workload_file, "w") as f:
        json.dump(run.workload_config, f)
    flags = ["--workload=" + workload_file, "--threads=%d" % run.threads, "--reps=1",
             "--out=" + os.path.join(work, "out"), "--no-plot"] + timing
    if run.preset is not None and run.modified:
        layout_file = os.path.join(work, run.allocator + ".json")
        with open(layout_file, "w") as f:
            json.dump(run.layout, f)
        flags += ["--layout=" + layout_file, "--allocators=layout:" + run.allocator]
    else:
        flags.append("--allocators=" + (run.preset or run.allocator))
    return flags


def row_from_output(run, sweep, doc):
    """The result row of `run` from the driver's JSON document."""
    rows = doc.get("summary", [])
    if len(rows) != 1:
        raise RuntimeError("%s: the driver reported %d rows, expected 1" % (run.cell, len(rows)))
    s, p = rows[0], doc.get("provenance", {})
    alloc, free = s.get("allocate_ns", {}), s.get("deallocate_ns", {})
    return {
        "sweep": sweep.name, "sweep_hash": sweep.hash, "cell": run.cell, "config_hash": run.config_hash,
        "workload": run.workload, "allocator": run.allocator, "family": s.get("family", ""), "knobs": run.knobs,
        "threads": run.threads, "rep": run.rep, "mops": s.get("mops_median"),
        "alloc_p50_ns": alloc.get("p50"), "alloc_p99_ns": alloc.get("p99"), "alloc_p999_ns": alloc.get("p999"),
        "free_p50_ns": free.get("p50"), "free_p99_ns": free.get("p99"), "free_p999_ns": free.get("p999"),
        "overhead_ratio": s.get("overhead_ratio"), "peak_live_bytes": s.get("peak_live_bytes"),
        "peak_rss_kib": s.get("peak_rss_kib"), "contention_events": s.get("contention_events"),
        "consistent": bool(s.get("consistent", False)),
        "commit": p.get("commit", "unknown"), "allocbench_version": p.get("allocbench_version", ""),
        "compiler": p.get("compiler", ""), "bazel": p.get("bazel_version", ""), "machine": machine_name(),
        "cpu_model": p.get("cpu_model", ""), "cores": p.get("cores"), "date_utc": p.get("date_utc", ""),
    }


def run_one(run, sweep, command):
    work = tempfile.mkdtemp(prefix="allocbench-sweep-")
    try:
        argv = command + driver_command(run, work, sweep.timing)
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        if proc.returncode != 0:
            raise RuntimeError("run %s failed (exit %d): %s\n%s" % (run.cell, proc.returncode, " ".join(argv),
                                                                    proc.stderr.strip()[-2000:]))
        out = os.path.join(work, "out", run.workload_config.get("name", "workload") + ".json")
        with open(out) as f:
            return row_from_output(run, sweep, json.load(f))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def rows_done(path, sweep, restart):
    """The cells already in `path` for this sweep. Rows of another version of the sweep file are
    refused, or with `restart` moved aside."""
    if not os.path.exists(path):
        return set()
    cut = result_rows.repair_tail(path)
    if cut:
        sys.stderr.write("sweep: %s: dropped an unfinished last line (%d bytes) from an interrupted run\n" % (path, cut))
    rows = result_rows.read_rows(path)
    others = sorted({r["sweep_hash"] for r in rows if r["sweep_hash"] != sweep.hash or r["sweep"] != sweep.name})
    if others:
        if not restart:
            raise SweepRefused(
                "%s holds %d rows of another sweep or another version of %s (hash %s; this file's is %s): "
                "its workloads, allocators, knobs, layouts or timing changed. Run with --restart to start "
                "afresh (the old rows are kept in %s.old), or give another --out."
                % (path, len([r for r in rows if r["sweep_hash"] in others]), sweep.path, ", ".join(others),
                   sweep.hash, path))
        os.replace(path, path + ".old")
        sys.stderr.write("sweep: --restart: moved the old rows to %s.old\n" % path)
        return set()
    return {r["cell"] for r in rows}


def main(argv):
    positional, flags = parse_flags(argv)
    if "help" in flags:
        print(__doc__)
        return 0
    root = runfiles_root()
    lock = user_path(flags["toolchain-lock"]) if flags.get("toolchain-lock") else os.path.join(source_tree(), "toolchain.lock")
    if "write-toolchain-lock" in flags:
        toolchain_lock.write(lock)
        print("wrote " + lock)
        return 0
    if len(positional) != 1:
        sys.stderr.write(__doc__)
        return 2
    sweep = sweep_spec.Sweep(user_path(positional[0]), os.path.join(root, "configs", "allocators"),
                             os.path.join(root, "configs", "workloads"),
                             os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd()))
    runs = sweep.runs()
    shard = sweep_spec.parse_shard(flags["shard"]) if flags.get("shard") else None
    if shard:
        runs = sweep_spec.shard_runs(runs, *shard)
    if flags.get("out"):
        out = user_path(flags["out"])
    else:
        suffix = ".shard-%d-of-%d" % shard if shard else ""
        out = os.path.join(source_tree(), "bench", "results", "sweeps", sweep.name + suffix + ".csv")
    if "dry-run" in flags:
        for r in runs:
            print(r.cell)
        return 0
    for line in toolchain_lock.differences(lock):
        sys.stderr.write("sweep: warning: toolchain differs from %s: %s\n" % (lock, line))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    done = rows_done(out, sweep, "restart" in flags)
    todo = [r for r in runs if r.cell not in done]
    command = shlex.split(flags["runner"]) if flags.get("runner") else [os.path.join(root, "bench", "all")]
    sys.stderr.write("sweep %s: %d runs%s, %d already in %s, %d to go\n"
                     % (sweep.name, len(runs), " (shard %d/%d)" % shard if shard else "", len(runs) - len(todo), out, len(todo)))
    comments = ["sweep: " + sweep.name, "sweep_file: " + positional[0], "sweep_hash: " + sweep.hash]
    if shard:
        comments.append("shard: %d/%d" % shard)
    progress = Progress(len(todo))
    started = time.monotonic()
    for r in todo:
        progress.show("%s %s t=%d rep %d%s" % (r.workload, r.allocator, r.threads, r.rep, " " + r.knobs if r.knobs else ""))
        row = run_one(r, sweep, command)
        result_rows.append_rows(out, [row], comments)
        progress.step("%s %s t=%d: %.1f Mops/s" % (r.workload, r.allocator, r.threads, row["mops"] or 0))
    progress.close()
    sys.stderr.write("sweep %s: %d runs in %s; results in %s\n" % (sweep.name, len(todo),
                                                                  format_seconds(time.monotonic() - started), out))
    return 0


if __name__ == "__main__":
    cli.run_tool("sweep", main, (sweep_spec.SweepError, SweepRefused, ValueError, RuntimeError, result_rows.ResultFileError))
