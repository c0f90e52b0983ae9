"""tools/bazel run //tools:compare -- a.csv b.csv [flags]

A/B comparison of two result files (sweep rows, one per repetition): for every run setting (workload,
allocator, knobs, threads) in both, the medians of a and b, the ratio b/a with its spread (the 25th
to 75th percentile of the ratios of every b repetition to every a repetition), and a two-sided
Mann-Whitney U test over the repetitions, marked significant below --alpha. Ends with the geometric
mean of the ratios. Below 9 repetitions on a side the U test has little power: a warning says so.

  --metric=mops       the column compared (default mops; also alloc_p99_ns, peak_rss_kib, ...)
  --alpha=0.05        significance level
  --pair=A:B          compare allocator A of a.csv with allocator B of b.csv (the files may be the same)
  --workload=W        only this workload (repeatable)
"""
import collections
import sys

import cli
import result_rows
import stats
from paths import user_path

MIN_REPS = 9


class CompareError(Exception):
    pass


def group(rows, metric, allocator=None, workloads=None):
    """{(workload, allocator, knobs, threads): [metric per repetition]}"""
    out = collections.OrderedDict()
    for r in rows:
        if allocator is not None and r["allocator"] != allocator:
            continue
        if workloads and r["workload"] not in workloads:
            continue
        if metric not in r:
            raise CompareError("no column '%s' (columns: %s)" % (metric, ", ".join(result_rows.COLUMNS)))
        v = r[metric]
        if v is None:
            continue
        out.setdefault((r["workload"], r["allocator"] if allocator is None else "", r["knobs"], r["threads"]), []).append(v)
    return out


def compare_cells(a, b, alpha):
    """One result per key in both: dict with the medians, ratio, spread, U test and significance."""
    results = []
    for key in a:
        if key not in b:
            continue
        xa, xb = a[key], b[key]
        ma, mb = stats.median(xa), stats.median(xb)
        ratios = [y / x for x in xa for y in xb if x > 0]
        test = stats.mann_whitney_u(xa, xb)
        results.append({
            "key": key, "n_a": len(xa), "n_b": len(xb), "median_a": ma, "median_b": mb,
            "ratio": mb / ma if ma > 0 else float("nan"),
            "spread": (stats.quantile(ratios, 0.25), stats.quantile(ratios, 0.75)) if ratios else (float("nan"),) * 2,
            "p_value": test.p_value, "method": test.method, "significant": test.p_value < alpha,
        })
    return results


def format_p(p):
    return "%.4f" % p if p >= 0.001 else "%.1e" % p


def render(results, alpha, metric, label_a, label_b):
    lines = ["| workload | allocator | knobs | threads | %s a | %s b | b/a (IQR of ratios) | U test p | |" % (metric, metric),
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        w, alloc, knobs, t = r["key"]
        lines.append("| %s | %s | %s | %d | %.4g | %.4g | %.3f (%.3f–%.3f) | %s | %s |" % (
            w, alloc or "%s vs %s" % (label_a, label_b), knobs or "–", t, r["median_a"], r["median_b"], r["ratio"],
            r["spread"][0], r["spread"][1], format_p(r["p_value"]), "**significant**" if r["significant"] else "not significant"))
    ratios = [r["ratio"] for r in results if r["ratio"] > 0]
    if ratios:
        lines.append("")
        lines.append("Geometric mean of b/a over %d settings: **%.3f**; %d of them differ significantly at alpha = %g "
                     "(two-sided Mann-Whitney U)." % (len(ratios), stats.geometric_mean(ratios),
                                                      sum(r["significant"] for r in results), alpha))
    return "\n".join(lines)


def main(argv):
    files, metric, alpha, pair, workloads = [], "mops", 0.05, None, []
    for a in argv:
        if a in ("--help", "-h"):
            print(__doc__)
            return 0
        if a.startswith("--metric="):
            metric = a.split("=", 1)[1]
        elif a.startswith("--alpha="):
            try:
                alpha = float(a.split("=", 1)[1])
            except ValueError:
                raise CompareError("--alpha must be a number, got '%s'" % a.split("=", 1)[1])
            if not 0 < alpha < 1:
                raise CompareError("--alpha must be in (0, 1)")
        elif a.startswith("--pair="):
            pair = a.split("=", 1)[1].split(":")
            if len(pair) != 2 or not all(pair):
                raise CompareError("--pair must be A:B (two allocator names)")
        elif a.startswith("--workload="):
            workloads.append(a.split("=", 1)[1])
        elif a.startswith("--"):
            raise CompareError("unknown flag %s (see --help)" % a)
        else:
            files.append(user_path(a))
    if len(files) != 2:
        raise CompareError("give two result files: a.csv b.csv")
    rows_a, rows_b = result_rows.read_rows(files[0]), result_rows.read_rows(files[1])
    a = group(rows_a, metric, pair[0] if pair else None, workloads)
    b = group(rows_b, metric, pair[1] if pair else None, workloads)
    results = compare_cells(a, b, alpha)
    if not results:
        raise CompareError("the two files share no run setting (workload, allocator, knobs, threads)")
    fewest = min(min(r["n_a"], r["n_b"]) for r in results)
    if fewest < MIN_REPS:
        sys.stderr.write("compare: warning: as few as %d repetitions per side; the Mann-Whitney U test needs about %d "
                         "or more to detect a difference reliably (re-run the sweep with more \"reps\")\n" % (fewest, MIN_REPS))
    label_a = pair[0] if pair else "a"
    label_b = pair[1] if pair else "b"
    print("a = %s%s, b = %s%s, metric %s\n" % (files[0], " (%s)" % pair[0] if pair else "",
                                               files[1], " (%s)" % pair[1] if pair else "", metric))
    print(render(results, alpha, metric, label_a, label_b))
    return 0


if __name__ == "__main__":
    cli.run_tool("compare", main, (CompareError, result_rows.ResultFileError, OSError))
