#!/usr/bin/python3
"""Plots what a trace looks like, from the JSON that //tools:trace_stats writes.

    /usr/bin/python3 tools/plot_trace_stats.py trace.json trace.png

Four panels: request sizes (log2 buckets), lifetimes of freed blocks (decades), allocation rate over
the run, and live requested bytes over the run. Needs matplotlib (Debian: python3-matplotlib).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")  # files only; no display on a build machine
import matplotlib.pyplot as plt  # noqa: E402

LIFETIMES = ["<1us", "1-10us", "10-100us", ".1-1ms", "1-10ms", "10-100ms", ".1-1s", "1-10s", "10-100s", ">100s"]


def size_label(i):
    if i == 0:
        return "0"
    lo = 1 << (i - 1)
    return f"{lo}" if lo < 1024 else (f"{lo // 1024}K" if lo < 1 << 20 else f"{lo >> 20}M")


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        s = json.load(f)
    program = s["program"].split(" ")[0].split("/")[-1]
    fig, ax = plt.subplots(2, 2, figsize=(12, 7))
    sizes = s["size_histogram_log2"]
    ax[0][0].bar(range(len(sizes)), sizes, color="tab:blue")
    ax[0][0].set_xticks(range(len(sizes)))
    ax[0][0].set_xticklabels([size_label(i) for i in range(len(sizes))], rotation=60, fontsize=7)
    ax[0][0].set_title("request sizes (bytes, from)")
    ax[0][0].set_ylabel("allocations")
    life = s["lifetime_histogram_log10_us"]
    ax[0][1].bar(range(len(life)), life, color="tab:orange")
    ax[0][1].set_xticks(range(len(life)))
    ax[0][1].set_xticklabels(LIFETIMES[: len(life)], rotation=30, fontsize=8)
    ax[0][1].set_title("lifetimes of freed blocks")
    t = s["rate_seconds"]
    ax[1][0].plot(t, [r / 1e6 for r in s["allocations_per_second"]], color="tab:green")
    ax[1][0].set_title("allocation rate")
    ax[1][0].set_ylabel("M allocations / s")
    ax[1][0].set_xlabel("seconds")
    ax[1][1].plot(t, [b / 1024 for b in s["live_bytes"]], color="tab:red")
    ax[1][1].axhline(s["peak_live_bytes"] / 1024, color="gray", linestyle=":", label="peak (exact)")
    ax[1][1].set_title("live requested bytes")
    ax[1][1].set_ylabel("KiB")
    ax[1][1].set_xlabel("seconds")
    ax[1][1].legend(loc="lower right")
    fig.suptitle(f"{program}: {s['events']} events, {s['threads']} thread(s), "
                 f"{100 * s['cross_thread_share']:.1f} % cross-thread frees, peak live {s['peak_live_bytes'] / 1024:.0f} KiB")
    fig.tight_layout()
    fig.savefig(argv[2], dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
