"""The report's PNGs, drawn with Debian's matplotlib (python3-matplotlib) from report_tables.Cells.
Each allocator keeps one colour across every figure; ours are drawn solid, peers dashed or hatched."""
import matplotlib

matplotlib.use("Agg")  # files only; no display on a build machine
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import ticker  # noqa: E402

import origin_report  # noqa: E402
import stats  # noqa: E402

DPI = 110


def _colours(cells):
    cmap = plt.get_cmap("tab10" if len(cells.allocators()) <= 10 else "tab20")
    return {a: cmap(i % cmap.N) for i, a in enumerate(cells.allocators())}


def _subtitle(cells):
    rows = cells.rows
    cpu = rows[0]["cpu_model"] if rows else "?"
    commit = str(rows[0]["commit"])[:10] if rows else "?"
    return "%s, %s cores, commit %s; median of repetitions, whiskers 25th–75th percentile" % (cpu, rows[0]["cores"] if rows else "?", commit)


def _plain_log_axis(ax, lowest=None):
    """A log y axis labelled 20, 50, 100 rather than 2 x 10^1; bars start below `lowest` so that the
    smallest stays visible."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: "%g" % v))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    if lowest:
        ax.set_ylim(bottom=lowest / 2.0)


def _grouped_bars(ax, cells, colours, workloads, value_of, errors=True, log=False):
    allocs = cells.allocators()
    width = 0.8 / max(1, len(allocs))
    lowest = None
    for i, a in enumerate(allocs):
        xs, ys, lo, hi = [], [], [], []
        for j, w in enumerate(workloads):
            v = value_of(w, a)
            if v is None:
                continue
            m, vmin, vmax = v
            xs.append(j - 0.4 + width * (i + 0.5))
            ys.append(m)
            lo.append(m - vmin)
            hi.append(vmax - m)
        if not xs:
            continue
        lowest = min([lowest] + ys) if lowest is not None else min(ys)
        ours = cells.family.get(a) == "ours"
        ax.bar(xs, ys, width, label=a, color=colours[a], hatch=None if ours else "//", edgecolor="white" if ours else "black",
               linewidth=0.4, yerr=[lo, hi] if errors else None, capsize=2, error_kw={"elinewidth": 0.8})
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(workloads, fontsize=9)
    if log:
        _plain_log_axis(ax, lowest)
    ax.grid(True, axis="y", alpha=0.3, which="both")


def _summary(cells, column, threads_of):
    def value_of(w, a):
        t = threads_of(w)
        v = cells.values(w, a, t, column)
        if not v:
            return None
        return cells.median(w, a, t, column), stats.quantile(v, 0.25), stats.quantile(v, 0.75)
    return value_of


def _legend_right(ax):
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)


def _save(fig, path, legend_ax=None):
    """Legend to the right of `legend_ax` (if any), then the file."""
    if legend_ax is not None:
        _legend_right(legend_ax)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def throughput_by_workload(cells, path):
    """Median throughput per workload and allocator, at the fewest and the most threads run."""
    workloads = cells.workloads()
    colours = _colours(cells)
    lo_t = min(cells.threads(w)[0] for w in workloads)
    hi_t = max(cells.threads(w)[-1] for w in workloads)
    panels = [lo_t] if lo_t == hi_t else [lo_t, hi_t]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.6 * len(panels)), squeeze=False)
    for ax, t in zip(axes[:, 0], panels):
        _grouped_bars(ax, cells, colours, workloads, _summary(cells, "mops", lambda w, t=t: t))
        ax.set_ylabel("Mops/s (alloc + free)")
        ax.set_title("%d thread%s" % (t, "" if t == 1 else "s"), fontsize=10)
    fig.suptitle("Throughput by workload\n" + _subtitle(cells), fontsize=9)
    _save(fig, path, axes[0, 0])


def scaling(cells, workload, path):
    """Throughput against threads (log2 axis), one line per allocator."""
    colours = _colours(cells)
    fig, ax = plt.subplots(figsize=(10, 5))
    threads = cells.threads(workload)
    for a in cells.allocators(workload):
        xs, ys, lo, hi = [], [], [], []
        for t in threads:
            v = cells.values(workload, a, t, "mops")
            if not v:
                continue
            m = cells.median(workload, a, t)
            xs.append(t)
            ys.append(m)
            lo.append(m - stats.quantile(v, 0.25))
            hi.append(stats.quantile(v, 0.75) - m)
        ours = cells.family.get(a) == "ours"
        ax.errorbar(xs, ys, yerr=[lo, hi], label=a, color=colours[a], linestyle="-" if ours else "--", marker="o",
                    markersize=4, capsize=3, linewidth=1.6 if ours else 1.2)
    if workload == "rl_small":
        for role, marker in (("system", "s"), ("baseline", "^"), ("sharded", "v")):
            pts = [(t, v[role]) for t, v in sorted(origin_report.TABLE1.items()) if v[role] is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle=":", marker=marker, color="black",
                    markerfacecolor="none", label="report's Table 1: " + role)
    ax.set_xscale("log", base=2)
    ax.set_xticks(threads)
    ax.set_xticklabels([str(t) for t in threads])
    _plain_log_axis(ax)
    ax.set_xlabel("threads")
    ax.set_ylabel("Mops/s (alloc + free), log scale")
    ax.grid(True, alpha=0.3, which="both")
    ax.set_title("%s: thread scaling\n%s" % (workload, _subtitle(cells)), fontsize=9)
    _save(fig, path, ax)


def overhead_ratio(cells, path):
    """Usable / requested bytes per workload at the fewest threads, with the report's figures."""
    workloads = cells.workloads()
    colours = _colours(cells)
    fig, ax = plt.subplots(figsize=(11, 4.2))
    _grouped_bars(ax, cells, colours, workloads, _summary(cells, "overhead_ratio", lambda w: cells.threads(w)[0]),
                  errors=False)
    xs = [j for j, w in enumerate(workloads) if w in origin_report.OVERHEAD]
    if xs:
        ax.scatter(xs, [origin_report.OVERHEAD[workloads[j]] for j in xs], marker="_", s=900, color="black",
                   linewidths=2, zorder=5, label="the report's pool")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_ylim(bottom=0.9)
    ax.set_ylabel("usable / requested bytes")
    ax.set_title("Overhead ratio (1.0 = no waste; fewest threads run)\n" + _subtitle(cells), fontsize=9)
    _save(fig, path, ax)


def latency_percentiles(cells, path):
    """Allocate and deallocate p50 / p99 / p99.9 per workload (log scale), at the fewest threads."""
    workloads = cells.workloads()
    colours = _colours(cells)
    rows = [("alloc_p50_ns", "allocate p50"), ("alloc_p99_ns", "allocate p99"), ("alloc_p999_ns", "allocate p99.9"),
            ("free_p50_ns", "free p50"), ("free_p99_ns", "free p99"), ("free_p999_ns", "free p99.9")]
    fig, axes = plt.subplots(2, 3, figsize=(15, 7), squeeze=False)
    for ax, (col, title) in zip(axes.flat, rows):
        _grouped_bars(ax, cells, colours, workloads, _summary(cells, col, lambda w: cells.threads(w)[0]), errors=False,
                      log=True)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("ns (log scale)")
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=min(6, len(labels)), frameon=False)
    fig.suptitle("Latency percentiles (fewest threads run; ~1 op in 1024 timed)\n" + _subtitle(cells), fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 1))  # room for the legend below
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def peak_memory(cells, path):
    """Peak live bytes (what the allocator reports live) and peak RSS, at the most threads run."""
    workloads = cells.workloads()
    colours = _colours(cells)
    fig, axes = plt.subplots(2, 1, figsize=(11, 7), squeeze=False)
    # Live bytes span decades across workloads (log axis); RSS, which includes the process's
    # own footprint, stays within a small range (linear axis).
    for ax, col, label, scale, log in ((axes[0, 0], "peak_live_bytes", "peak live MiB, log scale", 2.0 ** 20, True),
                                       (axes[1, 0], "peak_rss_kib", "peak RSS MiB (whole process)", 1024.0, False)):
        base = _summary(cells, col, lambda w: cells.threads(w)[-1])

        def scaled(w, a, base=base, scale=scale):
            v = base(w, a)
            return None if v is None else tuple(x / scale for x in v)
        _grouped_bars(ax, cells, colours, workloads, scaled, log=log)
        ax.set_ylabel(label)
    axes[0, 0].set_title("Peak live bytes and peak RSS (most threads run)\n" + _subtitle(cells), fontsize=9)
    _save(fig, path, axes[0, 0])
