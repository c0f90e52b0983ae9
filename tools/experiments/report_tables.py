"""The report's tables, from sweep rows: every figure is the median over repetitions of one run
setting (workload, allocator, knobs, threads). Pure functions returning Markdown, so that a test can
check them."""
import collections
import math

import origin_report
import stats


class Cells(object):
    """Rows grouped by run setting. An allocator run with knobs appears as 'allocator [knobs]'."""

    def __init__(self, rows):
        self.rows = rows
        self.by = collections.OrderedDict()
        self.family = {}
        for r in rows:
            name = r["allocator"] + (" [%s]" % r["knobs"] if r["knobs"] else "")
            self.family[name] = r["family"]
            self.by.setdefault((r["workload"], name, r["threads"]), []).append(r)

    def workloads(self):
        seen = []
        for (w, _, _) in self.by:
            if w not in seen:
                seen.append(w)
        ordered = [w for w in origin_report.WORKLOADS if w in seen]
        return ordered + [w for w in seen if w not in ordered]

    def allocators(self, workload=None):
        seen = []
        for (w, a, _) in self.by:
            if (workload is None or w == workload) and a not in seen:
                seen.append(a)
        return seen

    def threads(self, workload=None):
        return sorted({t for (w, _, t) in self.by if workload is None or w == workload})

    def values(self, workload, allocator, threads, column):
        return [r[column] for r in self.by.get((workload, allocator, threads), []) if r[column] is not None]

    def median(self, workload, allocator, threads, column="mops"):
        v = self.values(workload, allocator, threads, column)
        return stats.median(v) if v else None


def fmt(v, digits=1):
    return "–" if v is None else ("%.*f" % (digits, v))


def table1(cells):
    """The report's Table 1 (rl_small throughput by threads) beside ours."""
    roles = origin_report.ROLES
    ours = [("glibc (system)", roles["system"]), ("seed_baseline", roles["baseline"]),
            ("seed_sharded", roles["sharded"]), ("seed_baseline + guard", roles["baseline_guard"]),
            ("seed_sharded + guard", roles["sharded_guard"])]
    ours = [(label, a) for label, a in ours if a in cells.allocators("rl_small")]
    head = ["threads", "report: system", "report: baseline", "report: sharded"] + ["ours: " + l for l, _ in ours]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in sorted(set(origin_report.TABLE1) | set(cells.threads("rl_small"))):
        o = origin_report.TABLE1.get(t, {})
        row = [str(t), fmt(o.get("system")), fmt(o.get("baseline")), fmt(o.get("sharded"))]
        row += [fmt(cells.median("rl_small", a, t)) for _, a in ours]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def fragmentation_table(cells):
    """Overhead ratio (usable / requested bytes) per workload at the fewest threads run, the report's
    beside ours, with peak live bytes and peak RSS."""
    allocs = cells.allocators()
    head = ["workload", "report"] + allocs
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in cells.workloads():
        t = cells.threads(w)[0]
        row = [w + " (%d thread%s)" % (t, "" if t == 1 else "s"), fmt(origin_report.OVERHEAD.get(w), 2)]
        row += [fmt(cells.median(w, a, t, "overhead_ratio"), 3) for a in allocs]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def memory_table(cells):
    """Peak live bytes and peak RSS (MiB) per workload and allocator at the most threads run."""
    allocs = cells.allocators()
    head = ["workload"] + allocs
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in cells.workloads():
        t = cells.threads(w)[-1]
        row = [w + " (%d threads)" % t]
        for a in allocs:
            live = cells.median(w, a, t, "peak_live_bytes")
            rss = cells.median(w, a, t, "peak_rss_kib")
            row.append("%s / %s" % (fmt(live / 2.0 ** 20 if live is not None else None),
                                    fmt(rss / 1024.0 if rss is not None else None)))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def production_table(cells, workload):
    """Every allocator at every thread count: median Mops/s (min–max) and the ratio to glibc."""
    threads = cells.threads(workload)
    head = ["allocator"] + ["%d thread%s" % (t, "" if t == 1 else "s") for t in threads]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for a in cells.allocators(workload):
        row = ["**%s**" % a if cells.family.get(a) == "ours" else a]
        for t in threads:
            m = cells.median(workload, a, t)
            g = cells.median(workload, origin_report.ROLES["system"], t)
            if m is None:
                row.append("–")
                continue
            v = cells.values(workload, a, t, "mops")
            text = "%.1f (%.1f–%.1f)" % (m, min(v), max(v))
            if g and a != origin_report.ROLES["system"]:
                text += " %.2fx" % (m / g)
            row.append(text)
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def latency_table(cells, workload):
    """Allocate and deallocate latency percentiles (ns) at the fewest threads run."""
    t = cells.threads(workload)[0]
    head = ["allocator", "alloc p50", "alloc p99", "alloc p99.9", "free p50", "free p99", "free p99.9"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cols = ["alloc_p50_ns", "alloc_p99_ns", "alloc_p999_ns", "free_p50_ns", "free_p99_ns", "free_p999_ns"]
    for a in cells.allocators(workload):
        lines.append("| " + " | ".join([a] + [fmt(cells.median(workload, a, t, c), 0) for c in cols]) + " |")
    return "\n".join(lines)


def split_gap(glibc, plain, guarded):
    """How the gap between glibc and a guarded pool splits into the pool itself (its locks) and the
    guard: shares of ln(glibc / guarded), which is ln(glibc / plain) + ln(plain / guarded). Returns
    (lock share, guard share) in percent, or None when there is no gap."""
    if None in (glibc, plain, guarded) or min(glibc, plain, guarded) <= 0:
        return None
    total = math.log(glibc / guarded)
    if total <= 0:
        return None
    return 100.0 * math.log(glibc / plain) / total, 100.0 * math.log(plain / guarded) / total


def collapse_table(cells, workload="rl_small"):
    """The two causes of the report's collapse, each with its measured share, beside the same split
    of the report's repository rebuilt here. Returns None when the run lacks the allocators."""
    r = origin_report.ROLES
    need = [r["system"], r["baseline"], r["baseline_guard"], r["sharded"], r["sharded_guard"]]
    if any(a not in cells.allocators(workload) for a in need):
        return None
    head = ["threads", "glibc", "baseline", "baseline + guard", "lock / guard share", "sharded", "sharded + guard",
            "lock / guard share", "report rebuilt: baseline lock / guard", "report rebuilt: sharded lock / guard"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def share(s):
        return "no gap" if s is None else "%.0f %% / %.0f %%" % s

    rebuilt = origin_report.REBUILT
    for t in cells.threads(workload):
        g = cells.median(workload, r["system"], t)
        row = [str(t), fmt(g)]
        for pool in ("baseline", "sharded"):
            plain, guarded = cells.median(workload, r[pool], t), cells.median(workload, r[pool + "_guard"], t)
            row += [fmt(plain), fmt(guarded), share(split_gap(g, plain, guarded))]
        for pool in ("baseline", "sharded"):
            if t in rebuilt["glibc"]:
                row.append(share(split_gap(rebuilt["glibc"][t], rebuilt["no_guard"][pool][t], rebuilt["guard"][pool][t])))
            else:
                row.append("–")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def provenance(rows):
    """What made the rows: commits, machines, compilers, dates, repetitions."""
    def distinct(key):
        return sorted({str(r[key]) for r in rows if r[key] not in (None, "")})
    reps = collections.Counter((r["workload"], r["allocator"], r["knobs"], r["threads"]) for r in rows)
    lines = ["- rows: %d (%d run settings, %s repetitions each)" % (
        len(rows), len(reps), "–".join(str(x) for x in sorted({min(reps.values()), max(reps.values())})) if reps else "0")]
    for key, label in (("sweep", "sweep"), ("commit", "commit"), ("compiler", "compiler"), ("bazel", "Bazel"),
                       ("machine", "machine"), ("cpu_model", "CPU"), ("cores", "cores")):
        lines.append("- %s: %s" % (label, ", ".join("`%s`" % v for v in distinct(key)) or "unknown"))
    dates = distinct("date_utc")
    if dates:
        lines.append("- runs from %s to %s" % (dates[0], dates[-1]))
    mixed = [k for k in ("commit", "compiler", "machine") if len(distinct(k)) > 1]
    if mixed:
        lines.append("- **mixed %s**: rows of different %s are compared in the tables below" % (", ".join(mixed), " or ".join(mixed)))
    inconsistent = sum(1 for r in rows if not r["consistent"])
    if inconsistent:
        lines.append("- **%d runs did not free all they allocated** (column consistent)" % inconsistent)
    return "\n".join(lines)
