#!/usr/bin/python3
"""Plots a workload's throughput against thread count, one line per allocator.

    /usr/bin/python3 tools/plot_results.py bench/results/rl_small.json bench/results/rl_small.png

Reads the "summary" of a result file written by //bench (median Mops/s per allocator and thread
count, with min-max as error bars). Needs matplotlib (Debian: python3-matplotlib).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only; no display on a build machine
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        doc = json.load(f)
    series = {}
    for row in doc["summary"]:
        series.setdefault(row["allocator"], []).append(row)
    fig, ax = plt.subplots(figsize=(10, 5))
    for name, rows in series.items():
        rows.sort(key=lambda r: r["threads"])
        xs = [r["threads"] for r in rows]
        ys = [r["mops_median"] for r in rows]
        err = [[r["mops_median"] - r["mops_min"] for r in rows], [r["mops_max"] - r["mops_median"] for r in rows]]
        style = "-" if rows[0]["family"] == "ours" else "--"
        ax.errorbar(xs, ys, yerr=err, label=name, linestyle=style, marker="o", capsize=3)
    prov = doc.get("provenance", {})
    ax.set_xscale("log", base=2)
    threads = sorted({r["threads"] for r in doc["summary"]})
    ax.set_xticks(threads)
    ax.set_xticklabels([str(t) for t in threads])
    ax.set_xlabel("threads")
    ax.set_ylabel("Mops/s (allocations + frees), median")
    ax.set_title("%s  (%s, %s cores, commit %s)" % (prov.get("workload", "?"), prov.get("cpu_model", "?"),
                                                     prov.get("cores", "?"), str(prov.get("commit", "?"))[:12]),
                 fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
