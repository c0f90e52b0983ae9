"""tools/bazel run //tools:report -- <results.csv or a folder of them> [--out=DIR]

Turns sweep results into PNG plots and a Markdown report (report.md) in DIR (default: a folder
"report" beside the input): throughput by workload, thread scaling per workload
(scaling_<workload>.png), overhead ratio, latency percentiles, peak live bytes and RSS; the origin
report's Table 1, fragmentation table and production comparison beside ours; and the split of its
collapse between the global refill lock and the debug pointer guard. Every number comes from the rows.
"""
import os
import sys

import cli
import merge
import origin_report
import report_plots
import report_tables
import result_rows
from paths import user_path


def plot_files(cells):
    files = ["throughput_by_workload.png"] + ["scaling_%s.png" % w for w in cells.workloads()]
    return files + ["overhead_ratio.png", "latency_percentiles.png", "peak_memory.png"]


def markdown(cells, sources):
    out = ["# Allocator report", "", "From %s." % ", ".join("`%s`" % os.path.basename(s) for s in sources), "",
           report_tables.provenance(cells.rows), "", origin_report.NOTE, ""]
    out += ["## Throughput", "", "![throughput by workload](throughput_by_workload.png)", ""]
    for w in cells.workloads():
        out += ["![%s scaling](scaling_%s.png)" % (w, w), ""]
    if "rl_small" in cells.workloads():
        out += ["## Table 1: rl_small throughput by threads (Mops/s)", "",
                "The report's Table 1 beside ours (medians). Ours: glibc stands for its system allocator; "
                "`+ guard` is the preset with `\"debug_pointer_guard\": true`, as its default build ran.", "",
                report_tables.table1(cells), ""]
        collapse = report_tables.collapse_table(cells)
        if collapse:
            out += ["## The collapse: global refill lock or debug pointer guard", "",
                    "At each thread count the gap to glibc, ln(glibc / pool with guard), splits into "
                    "ln(glibc / pool) (the pool's own design: its global lock or global refill lock) and "
                    "ln(pool / pool with guard) (the guard); the shares are those parts of the gap. The "
                    "last two columns split the report's own repository, rebuilt here with and without "
                    "`-DNDEBUG`, the same way (its harness; 1, 2 and 16 threads only).", "", collapse, ""]
    out += ["## Fragmentation: overhead ratio (usable / requested bytes)", "",
            "![overhead ratio](overhead_ratio.png)", "", report_tables.fragmentation_table(cells), "",
            "## Peak live bytes and peak RSS (MiB, live / RSS)", "", "![peak memory](peak_memory.png)", "",
            report_tables.memory_table(cells), "",
            "## Production comparison", "",
            "Every allocator of the run, median Mops/s (min–max over repetitions) and the ratio to glibc at "
            "the same thread count; ours in bold.", ""]
    for w in cells.workloads():
        out += ["**%s**" % w, "", report_tables.production_table(cells, w), ""]
    out += ["## Latency percentiles (ns)", "", "![latency percentiles](latency_percentiles.png)", ""]
    for w in cells.workloads():
        out += ["**%s** (%d thread%s)" % (w, cells.threads(w)[0], "" if cells.threads(w)[0] == 1 else "s"), "",
                report_tables.latency_table(cells, w), ""]
    return "\n".join(out)


def main(argv):
    inputs, out = [], None
    for a in argv:
        if a in ("--help", "-h"):
            print(__doc__)
            return 0
        if a.startswith("--out="):
            out = user_path(a[len("--out="):])
        elif a.startswith("--"):
            raise merge.MergeRefused("unknown flag %s (known: --out=DIR)" % a)
        else:
            inputs.append(user_path(a))
    if not inputs:
        sys.stderr.write(__doc__)
        return 2
    files = merge.expand_inputs(inputs)
    rows = merge.merge_rows([(f, result_rows.read_rows(f)) for f in files], allow_mixed=True)
    if not rows:
        raise merge.MergeRefused("no rows in %s" % ", ".join(files))
    if out is None:
        first = inputs[0]
        out = os.path.join(first if os.path.isdir(first) else os.path.dirname(first), "report")
    os.makedirs(out, exist_ok=True)
    cells = report_tables.Cells(rows)
    report_plots.throughput_by_workload(cells, os.path.join(out, "throughput_by_workload.png"))
    for w in cells.workloads():
        report_plots.scaling(cells, w, os.path.join(out, "scaling_%s.png" % w))
    report_plots.overhead_ratio(cells, os.path.join(out, "overhead_ratio.png"))
    report_plots.latency_percentiles(cells, os.path.join(out, "latency_percentiles.png"))
    report_plots.peak_memory(cells, os.path.join(out, "peak_memory.png"))
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(markdown(cells, files) + "\n")
    print("wrote %s/report.md and %s" % (out, ", ".join(plot_files(cells))))
    return 0


if __name__ == "__main__":
    cli.run_tool("report", main, (merge.MergeRefused, result_rows.ResultFileError, OSError))
