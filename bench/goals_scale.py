"""The goals of issue 11 (Scale), judged from one run's results: met, not met, or not measured,
each with the numbers that decide it. Reported, never asserted."""

from __future__ import annotations

from bench.goals import Goal, _inputs, _ok, _summaries
from bench.transform import DUCKDB, OURS_COLD, OURS_WARM, SPARK_COPY

DUCKDB_FACTOR = 2.5
CPU_PER_WALL = 1.8
CORES_SPEEDUP = 1.7
MEMORY_GROWTH = 1.25
SECOND_UPLOAD_S = 6.0
FIRST_UPLOAD_S = 30.0


def _at(results: dict, rows: int) -> dict | None:
    return next((i for i in _inputs(results, "default") if i["rows"] == rows), None)


def goal_vs_duckdb(results: dict, rows: int) -> Goal:
    label = f"{rows // 1_000_000}M"
    name = f"warm transform of {label} rows <= {DUCKDB_FACTOR}x DuckDB on the same file"
    target = _at(results, rows)
    if not target:
        return Goal(name, None, f"no {label} input in this run")
    by = _summaries(results)
    warm, duck = by.get((target["label"], OURS_WARM)), by.get((target["label"], DUCKDB))
    if not (_ok(warm) and _ok(duck)):
        return Goal(name, None, f"{label}: ours (warm) or DuckDB did not run")
    ratio = warm["wall_s"] / duck["wall_s"]
    evidence = (
        f"{label}: ours warm {warm['wall_s']:.1f} s, DuckDB {duck['wall_s']:.1f} s: {ratio:.2f}x"
    )
    floor = by.get((target["label"], SPARK_COPY))
    if _ok(floor):
        evidence += (
            f" (Spark's floor, the copy alone: {floor['wall_s']:.1f} s, "
            f"{floor['wall_s'] / duck['wall_s']:.2f}x)"
        )
    return Goal(name, ratio <= DUCKDB_FACTOR, evidence)


def goal_cpu_per_wall(results: dict) -> Goal:
    name = f"CPU seconds / wall >= {CPU_PER_WALL} during a 10M-row warm transform on 2 cores"
    target = _at(results, 10_000_000)
    warm = _summaries(results).get((target["label"], OURS_WARM)) if target else None
    if not _ok(warm):
        return Goal(name, None, "ours (warm) did not run on 10M")
    ratio = warm["cpu_s"] / warm["wall_s"]
    return Goal(
        name,
        ratio >= CPU_PER_WALL,
        f"10M: {warm['cpu_s']:.1f} CPU s over {warm['wall_s']:.1f} s wall = {ratio:.2f}",
    )


def goal_cores(results: dict) -> Goal:
    name = f"local[2] vs local[1] speed-up >= {CORES_SPEEDUP} on 10M rows"
    cores = results.get("cores") or {}
    if not cores.get("ok") or "local2_wall_s" not in cores:
        return Goal(name, None, cores.get("error") or "local[1] or local[2] did not run")
    speedup = cores["local1_wall_s"] / cores["local2_wall_s"]
    caveat = "" if cores["rows"] >= 10_000_000 else f" (measured on {cores['input']})"
    return Goal(
        name + caveat,
        speedup >= CORES_SPEEDUP,
        f"{cores['input']}, each in a fresh warm worker: local[1] {cores['local1_wall_s']:.1f} s"
        f", local[2] {cores['local2_wall_s']:.1f} s: {speedup:.2f}x",
    )


def goal_memory(results: dict) -> Goal:
    name = f"peak memory 10M / 1M <= {MEMORY_GROWTH}"
    small, large = _at(results, 1_000_000), _at(results, 10_000_000)
    if not (small and large):
        return Goal(name, None, "needs the 1M and the 10M inputs")
    by = _summaries(results)
    parts, met = [], True
    for impl in (OURS_COLD, OURS_WARM):
        a, b = by.get((small["label"], impl)), by.get((large["label"], impl))
        if not (_ok(a) and _ok(b)):
            continue
        growth = b["peak_rss"] / a["peak_rss"]
        parts.append(
            f"{impl}: {a['peak_rss'] / 2**20:,.0f} -> {b['peak_rss'] / 2**20:,.0f} MiB "
            f"({growth:.2f}x)"
        )
        met = met and growth <= MEMORY_GROWTH
    if not parts:
        return Goal(name, None, "ours did not run on both inputs")
    return Goal(name, met, "; ".join(parts))


def _upload(results: dict, first: bool) -> tuple[str, float] | None:
    steps = (results.get("cold_start") or {}).get("steps") or {}
    for label, seconds in steps.items():
        if label.startswith("first upload") == first:
            return label, seconds
    return None


def goal_second_upload(results: dict) -> Goal:
    name = f"a second `lake upload` (20k rows) from a new shell: end to end <= {SECOND_UPLOAD_S} s"
    return _upload_goal(results, name, first=False, limit_s=SECOND_UPLOAD_S)


def goal_first_upload(results: dict) -> Goal:
    name = f"first `lake upload` on a fresh home (20k rows): end to end <= {FIRST_UPLOAD_S} s"
    return _upload_goal(results, name, first=True, limit_s=FIRST_UPLOAD_S)


def _upload_goal(results: dict, name: str, *, first: bool, limit_s: float) -> Goal:
    """The first (or the next) upload of bench.cold_start against its limit."""
    found = _upload(results, first=first)
    if not found:
        return Goal(name, None, (results.get("cold_start") or {}).get("error", "not measured"))
    label, seconds = found
    ok = "FAILED" not in label
    return Goal(name, ok and seconds <= limit_s, f"{label}: {seconds:.1f} s")


def goal_burst(results: dict) -> Goal:
    burst = results.get("burst") or {}
    name = f"{burst.get('files', 50)} files dropped at once under `lake watch`: all succeed"
    if "statuses" not in burst:
        return Goal(name, None, burst.get("error", "not measured"))
    return Goal(
        name,
        bool(burst.get("all_succeeded")),
        f"{burst['statuses']} in {burst.get('total_s', 0):.0f} s from the drop to the last end; "
        f"{burst.get('glue_runs_waited', 0)} Glue runs waited their turn (longest "
        f"{burst.get('glue_longest_wait_s', 0):.0f} s)",
    )


def evaluate(results: dict) -> list[Goal]:
    return [
        goal_vs_duckdb(results, 10_000_000),
        goal_vs_duckdb(results, 1_000_000),
        goal_cpu_per_wall(results),
        goal_cores(results),
        goal_memory(results),
        goal_second_upload(results),
        goal_first_upload(results),
        goal_burst(results),
    ]
