"""The sweep's result file: one CSV row per run (one allocator, workload, knob setting, thread count
and repetition), written as the sweep goes and read back by resume, merge, compare and report.

Lines starting with '#' before the header are comments (what made the file); readers skip them.
"""
import csv
import io
import os

# The columns, in file order. `cell` is the run's identity within its sweep (what resume skips);
# `sweep_hash` identifies the sweep file's content and `config_hash` the exact layout, workload and
# timing the run used; commit, compiler, bazel, machine, cpu_model and cores are its provenance.
COLUMNS = [
    "sweep", "sweep_hash", "cell", "config_hash",
    "workload", "allocator", "family", "knobs", "threads", "rep",
    "mops", "alloc_p50_ns", "alloc_p99_ns", "alloc_p999_ns", "free_p50_ns", "free_p99_ns", "free_p999_ns",
    "overhead_ratio", "peak_live_bytes", "peak_rss_kib", "contention_events", "consistent",
    "commit", "allocbench_version", "compiler", "bazel", "machine", "cpu_model", "cores", "date_utc",
]

NUMBER_COLUMNS = {
    "threads": int, "rep": int, "mops": float,
    "alloc_p50_ns": float, "alloc_p99_ns": float, "alloc_p999_ns": float,
    "free_p50_ns": float, "free_p99_ns": float, "free_p999_ns": float,
    "overhead_ratio": float, "peak_live_bytes": float, "peak_rss_kib": float, "contention_events": float,
    "cores": int,
}


class ResultFileError(Exception):
    """A result file that cannot be read as one: names the file, the line and the reason."""


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def repair_tail(path):
    """Cuts a last line that an interrupted writer left without its newline, so that appending
    starts on a line of its own. Returns how many bytes were cut."""
    if not os.path.exists(path):
        return 0
    with open(path, "rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        f.truncate(keep)
        return len(data) - keep


def append_rows(path, rows, comments=()):
    """Appends rows (dicts with the COLUMNS keys) to `path`, creating it with `comments` and the
    header when it does not exist yet. Flushed before returning, so an interruption loses at most
    the row being written."""
    new = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", newline="") as f:
        if new:
            for c in comments:
                f.write("# " + c + "\n")
            csv.writer(f, lineterminator="\n").writerow(COLUMNS)
        w = csv.writer(f, lineterminator="\n")
        for r in rows:
            missing = [c for c in COLUMNS if c not in r]
            if missing:
                raise ValueError("row lacks columns: " + ", ".join(missing))
            w.writerow([_cell_text(r[c]) for c in COLUMNS])
        f.flush()
        os.fsync(f.fileno())


def write_rows(path, rows, comments=()):
    """Writes a new file (replacing any) with `comments`, the header and `rows`."""
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.remove(tmp)
    append_rows(tmp, rows, comments)  # a new file gets the header even when `rows` is empty
    os.replace(tmp, path)


def _typed(row, path, line):
    out = dict(row)
    for key, kind in NUMBER_COLUMNS.items():
        text = out.get(key, "")
        if text == "" or text is None:
            out[key] = None
            continue
        try:
            out[key] = kind(text)
        except ValueError:
            raise ResultFileError("%s:%d: column %s: not a number: %r" % (path, line, key, text))
    out["consistent"] = out.get("consistent") == "true"
    return out


def read_rows(path):
    """The rows of a result file as dicts, numbers converted (empty cells become None). A truncated
    last line (an interrupted write) is skipped; any other malformed line is an error."""
    with open(path, newline="") as f:
        text = f.read()
    # The last piece is "" after a final newline, or a line an interrupted writer left unfinished:
    # neither is a row.
    lines = text.split("\n")[:-1]
    body = []
    first = 0
    while first < len(lines) and lines[first].startswith("#"):
        first += 1
    if first == len(lines):
        return []
    reader = csv.reader(io.StringIO("\n".join(lines[first:]) + "\n"))
    header = next(reader)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ResultFileError("%s:%d: not a sweep result file (header lacks %s)" % (path, first + 1, ", ".join(missing)))
    for n, values in enumerate(reader, start=first + 2):
        if len(values) != len(header):
            raise ResultFileError("%s:%d: %d fields, the header has %d" % (path, n, len(values), len(header)))
        body.append(_typed(dict(zip(header, values)), path, n))
    return body


def read_comments(path):
    """The comment lines at the top of a result file, without their '# '."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                break
            out.append(line[1:].strip())
    return out
