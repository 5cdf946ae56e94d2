"""The report: the same tables rendered as Markdown (bench/RESULTS.md) and on the terminal."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table as RichTable

from bench.goals import evaluate
from bench.transform import LABELS


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _num(value, fmt: str = "{:.2f}", missing: str = "–") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return fmt.format(value)


def _mb(n) -> str:
    return _num(n / 1e6 if n is not None else None, "{:,.1f}")


def _mib(n) -> str:
    return _num(n / 2**20 if n is not None else None, "{:,.0f}")


def _rate(rows_per_s) -> str:
    if rows_per_s is None or (isinstance(rows_per_s, float) and math.isnan(rows_per_s)):
        return "–"
    return f"{rows_per_s / 1e3:,.0f}k"


def machine_table(results: dict) -> Table:
    table = Table("Machine and versions", ["", ""])
    for key, value in results.get("system", {}).items():
        table.rows.append([key, str(value)])
    return table


def transform_table(results: dict) -> Table:
    t = results.get("transform") or {}
    table = Table(
        "Transform: CSV -> partitioned Parquet (median of n runs, same file, alternating)",
        [
            "input",
            "implementation",
            "n",
            "wall s (min–max)",
            "rows/s",
            "CPU s",
            "peak RSS MiB",
            "output MB (% of CSV)",
            "files",
            "partitions",
            "max files/part.",
            "x DuckDB",
            "x reference",
        ],
    )
    inputs = {i["label"]: i for i in t.get("inputs", [])}
    order = {impl: k for k, impl in enumerate(LABELS)}
    for s in sorted(
        t.get("summaries", []),
        key=lambda s: (
            list(inputs).index(s["input"]) if s["input"] in inputs else 99,
            order.get(s["impl"], 9),
        ),
    ):
        info = inputs.get(s["input"], {})
        ok = s["ok_runs"] > 0
        share = s["output_bytes"] / s["input_bytes"] if s["input_bytes"] else None
        table.rows.append(
            [
                f"{s['input']}, {_mb(info.get('bytes'))} MB",
                LABELS.get(s["impl"], s["impl"]),
                f"{s['ok_runs']}/{s['runs']}" if s["ok_runs"] != s["runs"] else str(s["runs"]),
                f"{_num(s['wall_s'])} ({_num(s['wall_min_s'])}–{_num(s['wall_max_s'])})"
                if ok
                else "FAILED",
                _rate(s["rows_per_s"]) if ok else "–",
                _num(s.get("cpu_s"), "{:.1f}") if ok else "–",
                _mib(s["peak_rss"]) if ok else "–",
                f"{_mb(s['output_bytes'])} ({_num(share, '{:.0%}')})" if ok else "–",
                str(s["output_files"]) if ok else "–",
                str(s["partitions"]) if ok else "–",
                str(s["max_files_per_partition"]) if ok else "–",
                _num(s.get("vs_duckdb"), "{:.1f}x"),
                _num(s.get("vs_reference"), "{:.2f}x"),
            ]
        )
        if ok and s.get("rows_written") not in (None, s["rows"]):
            table.notes.append(
                f"{LABELS.get(s['impl'])} on {s['input']} wrote "
                f"{s['rows_written']:,} rows of {s['rows']:,}."
            )
    code = t.get("code") or {}
    if code:
        changed = ", ".join(code.get("uncommitted", [])) or "none"
        if code.get("source") == "working tree":
            what = f"the working tree on commit {code.get('commit')} (uncommitted: {changed})"
        else:
            what = f"commit {code.get('commit')} as committed (left out, uncommitted: {changed})"
        table.notes.append(f"Code measured: {what}; a frozen copy, sha256 {code.get('sha256')}.")
    warm = t.get("warm") or {}
    if warm:
        table.notes.append(
            f"Warm worker: session start {_num(warm.get('startup_s'), '{:.1f}')} s (not in the "
            f"warm times), then one untimed warm-up call "
            f"({_num(warm.get('warmup_call_s'), '{:.1f}')} s) before the measured calls."
        )
    large = [
        i["label"]
        for i in t.get("inputs", [])
        if i.get("runs", 0) < max((j.get("runs", 0) for j in t.get("inputs", [])), default=0)
    ]
    if large:
        table.notes.append(
            f"Fewer runs on {', '.join(large)} to keep the full run within "
            "its time budget (n column)."
        )
    failures = [r for r in t.get("records", []) if not r["ok"]]
    for r in failures[:5]:
        last = (r.get("error") or "").strip().splitlines()[-1:] or [""]
        table.notes.append(
            f"FAILED: {LABELS.get(r['impl'])} on {r['input']} run {r['run']}: {last[0][:300]}"
        )
    return table


def goals_table(results: dict) -> Table:
    table = Table("Goals (issue 5)", ["goal", "verdict", "numbers"])
    for goal in evaluate(results):
        table.rows.append([goal.name, goal.verdict, goal.evidence])
    return table


def e2e_table(results: dict) -> Table | None:
    e2e = results.get("e2e")
    if not e2e:
        return None
    table = Table(
        f"End to end, local runtime: `lake upload` to queryable ({e2e.get('rows', '?'):,} rows)"
        if isinstance(e2e.get("rows"), int)
        else "End to end, local runtime",
        ["mode", "n", "upload -> queryable s (median)", "runs s", "per state (median s)"],
    )
    for mode in ("cold", "warm"):
        m = e2e.get(mode) or {}
        if not m:
            continue
        states = ", ".join(f"{k} {v:.2f}" for k, v in (m.get("states_s") or {}).items())
        table.rows.append(
            [
                mode,
                str(len(m.get("runs_s", []))),
                _num(m.get("median_s")),
                ", ".join(f"{x:.2f}" for x in m.get("runs_s", [])),
                states or m.get("error", "–"),
            ]
        )
    table.notes += e2e.get("notes", [])
    if e2e.get("error"):
        table.notes.append(f"error: {e2e['error'][-500:]}")
    return table


def catalog_table(results: dict) -> Table | None:
    cat = results.get("catalog")
    if not cat:
        return None
    table = Table(
        f"Catalog: register one file's partitions ({cat.get('partitions_per_file', '?')} new "
        f"partitions, ALTER TABLE ... ADD IF NOT EXISTS; local Hive catalog on Derby)",
        [
            "partitions already in the table",
            "register, median s",
            "runs s",
            "same statement again (all exist), median s",
        ],
    )
    for level in cat.get("levels", []):
        table.rows.append(
            [
                str(level["existing"]),
                _num(level["median_s"], "{:.3f}"),
                ", ".join(f"{x:.3f}" for x in level["runs_s"]),
                _num(level.get("again_median_s"), "{:.3f}"),
            ]
        )
    daily = cat.get("daily_file")
    if daily:
        table.notes.append(
            f"A one-range-per-day file's statement ({daily['partitions']} new partitions, "
            f"{daily['existing']} in the table) took {daily['seconds']:.2f} s (once)."
        )
    if cat.get("error"):
        table.notes.append(f"error: {cat['error'][-500:]}")
    return table


def query_table(results: dict) -> Table | None:
    q = results.get("query")
    if not q:
        return None
    table = Table(
        f"Query: {q.get('question', '?')} on {q.get('input', '?')} "
        f"({q.get('engine', '?')} on both sides; lake written by {q.get('lake_written_by', '?')})",
        ["source", "median s", "bytes read", "total bytes of the source", "rows", "mean s"],
    )
    for side, label in (("lake", "lake (partition-pruned Parquet)"), ("csv", "raw CSV")):
        r = q.get(side) or {}
        if r:
            table.rows.append(
                [
                    label,
                    _num(r.get("median_s"), "{:.3f}"),
                    f"{r.get('bytes_read', 0):,}",
                    f"{r.get('total_bytes', 0):,}",
                    str(r.get("rows")),
                    _num(r.get("mean"), "{:.1f}"),
                ]
            )
    if "same_answer" in q:
        table.notes.append(f"Same answer from both: {'yes' if q['same_answer'] else 'NO'}.")
    if q.get("error"):
        table.notes.append(f"error: {q['error'][-500:]}")
    return table


def tables(results: dict) -> list[Table]:
    from bench.report_scale import (  # its tables are built from this module's parts
        burst_table,
        cold_start_table,
        glue_cost_table,
        scale_goals_table,
    )

    found = [
        transform_table(results),
        scale_goals_table(results),
        goals_table(results),
        glue_cost_table(results),
        cold_start_table(results),
        burst_table(results),
        e2e_table(results),
        catalog_table(results),
        query_table(results),
        machine_table(results),
    ]
    return [t for t in found if t is not None]


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    lines.append("| " + " | ".join(_md_cell(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.notes:
        lines.append("")
        lines += [f"- {note}" for note in table.notes]
    return "\n".join(lines)


METHOD = """\
## How this is measured

- Every implementation runs in its own process on the same generated file in the same run; the
  implementations alternate (the order rotates each run) and the table shows medians.
- Peak RSS is of the whole process tree (the Python driver AND its JVM for Spark), sampled every
  50 ms with psutil; for a fresh process it is also bounded below by the kernel's high-water mark
  of its largest process. For the warm worker it is the tree's RSS during the call (the JVM
  keeps its heap between calls, as under `lake watch`).
- CPU s = user + system seconds of the whole tree during the run (last sample of each process):
  CPU / wall shows how many of the cores an implementation kept busy, and unlike wall time it
  hardly moves when something else shares the machine.
- Ours cold = `python glue/ingest_travel_times.py ...` as a fresh process (Python start, JVM start
  and session creation included). Ours warm = the job's `run()` in a process whose session is
  already up. The reference = bench/reference_pandas.py (its faults kept on purpose, see its
  docstring). DuckDB = one `COPY (SELECT ...) TO ... (FORMAT PARQUET, PARTITION_BY (city, year,
  month, day), COMPRESSION SNAPPY)`. Spark's floor = that copy done by Spark in a warm worker
  of its own (one untimed call first), as cheaply as Spark does it (bench/spark_copy.py: the
  job's split read, the dates cut without a regex, no shuffle): what any Spark job on the file
  costs at least.
- Our job does more than the peers: it validates every row against the contract, sets bad rows
  aside with a reason, drops exact duplicates, writes one file per partition, replaces an earlier
  version of the same source key and writes a manifest. The peers only parse and write.
- Inputs come from `lake generate` (seed 0, no geometry, no bad rows; "daily" = one single-day
  Date Range per day of 2019) and are cached in bench/out/inputs/. They sit in the page cache
  when measured, so reading is not disk-bound for anyone.
- Ratios compare medians measured in this same run, never numbers from elsewhere."""


def markdown(results: dict, extra_sections: list[str] | None = None) -> str:
    total = results.get("total_s")
    head = [
        "# Benchmark results",
        "",
        f"Produced by `{results.get('command', 'python -m bench')}` on {results.get('started')}"
        + (f", {total / 60:.1f} min in all." if total else "."),
        "Chart: [results.png](results.png) (time vs rows, log-log).",
    ]
    body = [markdown_table(t) for t in tables(results)]
    return "\n\n".join(["\n".join(head), METHOD, *body, *(extra_sections or [])]) + "\n"


def print_table(table: Table, console: Console) -> None:
    rich = RichTable(title=table.title, show_lines=False, title_justify="left")
    for header in table.headers:
        rich.add_column(header, overflow="fold")
    for row in table.rows:
        rich.add_row(*row)
    console.print(rich)
    for note in table.notes:
        console.print(f"  - {note}", highlight=False)
    console.print()


def print_tables(results: dict, console: Console | None = None) -> None:
    console = console or Console()
    for table in tables(results):
        print_table(table, console)
