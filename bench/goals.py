"""The goals of issue 5, judged from one run's results: met, not met, or not measured, each with
the numbers that decide it. Reported, never asserted."""

from __future__ import annotations

from dataclasses import dataclass

from bench.transform import DUCKDB, OURS_COLD, OURS_WARM, REFERENCE

FLAT_MEMORY_GROWTH = 1.25  # "flat": at most 25 % more peak RSS for 10x the rows
MAX_OUTPUT_SHARE = 0.25
WARM_E2E_LIMIT_S = 5.0
CATALOG_FLAT = 1.5
DUCKDB_FACTOR = 3.0
REFERENCE_SPEEDUP = 3.0


@dataclass
class Goal:
    name: str
    met: bool | None  # None: not measured in this run
    evidence: str

    @property
    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


def _summaries(results: dict) -> dict[tuple[str, str], dict]:
    return {(s["input"], s["impl"]): s for s in results.get("transform", {}).get("summaries", [])}


def _inputs(results: dict, date_ranges: str) -> list[dict]:
    return sorted(
        (
            i
            for i in results.get("transform", {}).get("inputs", [])
            if i["date_ranges"] == date_ranges
        ),
        key=lambda i: i["rows"],
    )


def _ok(s: dict | None) -> bool:
    return bool(s and s.get("ok_runs"))


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def goal_duckdb(results: dict) -> Goal:
    name = "Our job within 3x of DuckDB at 10M rows, warm session"
    by = _summaries(results)
    inputs = _inputs(results, "default")
    if not inputs:
        return Goal(name, None, "no default-ranges input was measured")
    largest = inputs[-1]
    lines = []
    for i in inputs[-2:]:
        parts = []
        for impl in (OURS_WARM, OURS_COLD):
            s = by.get((i["label"], impl))
            if _ok(s) and s.get("vs_duckdb"):
                parts.append(f"{impl.split('_')[1]} {s['wall_s']:.1f} s = {s['vs_duckdb']:.1f}x")
        duck = by.get((i["label"], DUCKDB))
        if _ok(duck):
            lines.append(f"{i['label']}: DuckDB {duck['wall_s']:.1f} s; ours " + ", ".join(parts))
    warm = by.get((largest["label"], OURS_WARM))
    if not _ok(warm) or not warm.get("vs_duckdb"):
        return Goal(name, None, "; ".join(lines) or "ours (warm) or DuckDB did not run")
    met = warm["vs_duckdb"] <= DUCKDB_FACTOR
    caveat = "" if largest["rows"] >= 10_000_000 else f" (largest input here: {largest['label']})"
    return Goal(name + caveat, met, "; ".join(lines))


def goal_reference_daily(results: dict) -> Goal:
    name = "One range per day (365), 1M rows: ours cold at least 3x faster than the reference"
    by = _summaries(results)
    daily = _inputs(results, "daily")
    if not daily:
        return Goal(name, None, "no daily input was measured")
    d = daily[-1]
    cold, ref = by.get((d["label"], OURS_COLD)), by.get((d["label"], REFERENCE))
    if not (_ok(cold) and _ok(ref)):
        return Goal(name, None, f"{d['label']}: ours (cold) or the reference did not run")
    speedup = ref["wall_s"] / cold["wall_s"]
    caveat = "" if d["rows"] >= 1_000_000 else f" (measured on {d['label']})"
    return Goal(
        name + caveat,
        speedup >= REFERENCE_SPEEDUP,
        f"{d['label']}: reference {ref['wall_s']:.1f} s, ours cold {cold['wall_s']:.1f} s "
        f"(process start and JVM included): {speedup:.1f}x faster",
    )


def goal_memory(results: dict) -> Goal:
    name = "Peak memory of the job flat from 1M to 10M rows (reference grows with the file)"
    by = _summaries(results)
    inputs = [i for i in _inputs(results, "default") if i["rows"] >= 1_000_000]
    if len(inputs) < 2:
        inputs = _inputs(results, "default")[-2:]
        name += " (smaller inputs in this run)"
    if len(inputs) < 2:
        return Goal(name, None, "needs two input sizes")
    small, large = inputs[0], inputs[-1]
    parts, met = [], True
    for impl in (OURS_COLD, OURS_WARM, REFERENCE, DUCKDB):
        a, b = by.get((small["label"], impl)), by.get((large["label"], impl))
        if not (_ok(a) and _ok(b)):
            continue
        growth = b["peak_rss"] / a["peak_rss"]
        parts.append(f"{impl}: {_mib(a['peak_rss'])} -> {_mib(b['peak_rss'])} ({growth:.2f}x)")
        if impl in (OURS_COLD, OURS_WARM):
            met = met and growth <= FLAT_MEMORY_GROWTH
    if not any(p.startswith("ours") for p in parts):
        return Goal(name, None, "; ".join(parts) or "ours did not run")
    return Goal(
        name,
        met,
        f"{small['label']} -> {large['label']}: "
        + "; ".join(parts)
        + f" (flat = at most {FLAT_MEMORY_GROWTH:.2f}x)",
    )


def goal_output(results: dict) -> Goal:
    """Judged on the largest input of each kind (a few rows per partition make any Parquet
    mostly footers); smaller inputs are listed, and DuckDB's share is given for scale."""
    name = "Parquet at most 1/4 of the CSV (no geometry); at most one file per partition"
    by = _summaries(results)
    judged, info, met = [], [], True
    for kind in ("default", "daily"):
        inputs = _inputs(results, kind)
        for i in inputs:
            s = next(
                (
                    by.get((i["label"], m))
                    for m in (OURS_COLD, OURS_WARM)
                    if _ok(by.get((i["label"], m)))
                ),
                None,
            )
            if s is None:
                continue
            share = s["output_bytes"] / s["input_bytes"]
            text = (
                f"{i['label']}: {share:.1%} of the CSV, "
                f"max {s['max_files_per_partition']} file(s)/partition"
            )
            duck = by.get((i["label"], DUCKDB))
            if _ok(duck):
                text += f" (DuckDB {duck['output_bytes'] / duck['input_bytes']:.1%})"
            if i is inputs[-1]:
                judged.append(text)
                met = met and share <= MAX_OUTPUT_SHARE and s["max_files_per_partition"] <= 1
            else:
                info.append(text)
    if not judged:
        return Goal(name, None, "ours did not run")
    evidence = "; ".join(judged) + (f". Smaller inputs: {'; '.join(info)}" if info else "")
    return Goal(name, met, evidence)


def goal_e2e(results: dict) -> Goal:
    name = "Warm end-to-end time for a 10k-row file under 5 s"
    e2e = results.get("e2e") or {}
    warm = e2e.get("warm") or {}
    if not warm.get("median_s"):
        return Goal(name, None, e2e.get("error") or warm.get("error") or "not measured")
    return Goal(
        name,
        warm["median_s"] < WARM_E2E_LIMIT_S,
        f"warm {warm['median_s']:.2f} s (median of {len(warm.get('runs_s', []))}); "
        f"cold {e2e.get('cold', {}).get('median_s', float('nan')):.2f} s",
    )


def goal_catalog(results: dict) -> Goal:
    name = "Partition registration flat (within 1.5x) from 10 to 1,000 existing partitions"
    levels = (results.get("catalog") or {}).get("levels") or []
    if len(levels) < 2:
        return Goal(name, None, (results.get("catalog") or {}).get("error", "not measured"))
    first, last = levels[0], levels[-1]
    ratio = last["median_s"] / first["median_s"]
    if last["existing"] < 1000:
        name += f" (only up to {last['existing']} in this run)"
    spread = ", ".join(f"{lv['existing']}: {lv['median_s']:.3f} s" for lv in levels)
    return Goal(
        name,
        ratio <= CATALOG_FLAT,
        f"{spread}; {last['existing']} vs {first['existing']}: {ratio:.2f}x",
    )


def evaluate(results: dict) -> list[Goal]:
    return [
        goal_duckdb(results),
        goal_reference_daily(results),
        goal_memory(results),
        goal_output(results),
        goal_e2e(results),
        goal_catalog(results),
    ]
