"""The chart: wall time against rows for each implementation, log-log."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write the PNG only
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter

from bench.transform import LABELS

STYLES = {
    "ours_cold": ("tab:blue", "o", "-"),
    "ours_warm": ("tab:cyan", "o", "--"),
    "reference_pandas": ("tab:red", "s", "-"),
    "duckdb": ("tab:green", "^", "-"),
    "spark_copy": ("tab:purple", "D", ":"),
}


def _rows(n: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:g}{unit}"
    return f"{n:g}"


def draw(results: dict, path: Path) -> Path | None:
    """Lines for the default-ranges inputs; the one-range-per-day input as open markers."""
    transform = results.get("transform") or {}
    summaries = transform.get("summaries") or []
    kinds = {i["label"]: i["date_ranges"] for i in transform.get("inputs", [])}
    if not summaries:
        return None
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    for impl, (color, marker, line) in STYLES.items():
        rows = sorted(
            (s for s in summaries if s["impl"] == impl and s["ok_runs"]), key=lambda s: s["rows"]
        )
        default = [s for s in rows if kinds.get(s["input"]) == "default"]
        daily = [s for s in rows if kinds.get(s["input"]) == "daily"]
        if default:
            ax.plot(
                [s["rows"] for s in default],
                [s["wall_s"] for s in default],
                color=color,
                marker=marker,
                linestyle=line,
                label=LABELS[impl],
            )
        if daily:
            ax.scatter(
                [s["rows"] for s in daily],
                [s["wall_s"] for s in daily],
                color=color,
                marker=marker,
                facecolors="none",
                s=80,
                label=f"{LABELS[impl]}, 365 ranges",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    # Plain numbers (100k, 1M; 2 s) instead of matplotlib's 10^x labels.
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _rows(x)))
    ax.xaxis.set_minor_formatter(NullFormatter())  # labels of minor ticks collide on a log axis
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g} s"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("rows in the export")
    ax.set_ylabel("wall time, median (s)")
    cores = results.get("system", {}).get("cores", "?")
    ax.set_title(f"CSV -> partitioned Parquet, one machine ({cores})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
