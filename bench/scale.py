"""The sections of issue 11 (Scale) in `make bench`: the job on one core against two, the
fresh-shell `lake upload`s against the background engine, a burst of files under `lake watch`;
and the projection of what the measured work would cost on AWS Glue.

Each section returns a dict for results.json; bench/goals_scale.py judges them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench import transform
from bench.inputs import InputSpec

Log = Callable[[str], None]


def largest_default_input(transform_results: dict) -> dict | None:
    """The biggest input of the transform section with the generator's default date ranges."""
    inputs = [i for i in transform_results.get("inputs", []) if i["date_ranges"] == "default"]
    return max(inputs, key=lambda i: i["rows"], default=None)


def run_cores(plan, workdir: Path, transform_results: dict, log: Log) -> dict:
    """The warm job on the largest default input in local[1] and in local[2], measured the same
    way: for each, a fresh warm worker, warmed up once on the smallest input, then timed once.
    (The transform section's warm worker is not the local[2] side: by its 10M run it has run the
    other inputs many times, so the ratio would mix the cores with the worker's history.)"""
    from bench.ours import WarmWorker

    target = largest_default_input(transform_results)
    code = transform_results.get("code") or {}
    if not target or not code.get("root"):
        return {"error": "the transform section measured no default input"}
    smallest = min(
        (i for i in transform_results["inputs"] if i["date_ranges"] == "default"),
        key=lambda i: i["rows"],
    )
    result: dict = {"input": target["label"], "rows": target["rows"], "ok": True, "error": ""}
    for cores in (1, 2):
        log(f"cores: the warm job on {target['label']} in local[{cores}], a fresh worker ...")
        worker = WarmWorker(
            workdir / f"cores-{cores}-home",
            driver_memory=plan.driver_memory,
            java_options=plan.java_options,
            code_root=Path(code["root"]),
            cores=cores,
        )
        try:
            for label, info in (("warm-up", smallest), ("timed", target)):
                measured, _ = transform.run_once(
                    transform.OURS_WARM,
                    InputSpec(rows=info["rows"]),
                    plan.input_cache / info["file"],
                    workdir / "cores",
                    worker,
                    plan.warm_conf,
                )
                log(f"cores: local[{cores}] {label} on {info['label']}: {measured.wall_s:.1f} s")
        finally:
            worker.close()
        result.update(
            {
                f"local{cores}_wall_s": measured.wall_s,
                f"local{cores}_cpu_s": measured.cpu_s,
                f"local{cores}_peak_rss": measured.peak_rss,
            }
        )
        if not measured.ok:
            return {**result, "ok": False, "error": measured.stderr_tail[-1500:]}
    return result


def run_cold_start(plan, workdir: Path, log: Log, run_json_module) -> dict:
    """`lake upload`s of a 20k-row export, each from a new process: the first on a fresh home
    (it leaves the background engine running), the next served warm (bench/cold_start.py)."""
    home = workdir / "cold-start" / "home"
    if home.parent.exists():
        import shutil

        shutil.rmtree(home.parent)
    home.parent.mkdir(parents=True)
    log(f"cold start: lake upload ({plan.cold_rows:,} rows) on a fresh home, then from new shells")
    return run_json_module(
        "bench.cold_start",
        [
            "--end-to-end",
            "--rows",
            str(plan.cold_rows),
            "--runs",
            str(plan.cold_runs),
            "--pause",
            str(plan.cold_pause_s),
            "--home",
            str(home),
        ],
        log,
    )


def run_burst(plan, workdir: Path, log: Log) -> dict:
    """`plan.burst_files` exports dropped at once under `lake watch` (bench/burst.py)."""
    from bench import burst

    return burst.measure(plan, workdir, log)


# AWS Glue's price and billing, from https://aws.amazon.com/glue/pricing/ ("$0.44 per DPU-Hour",
# "billed per second, with a 1-minute minimum" for Spark jobs on Glue 2.0 and later) and the
# worker types of https://docs.aws.amazon.com/glue/latest/dg/worker-types.html (G.1X: 1 DPU =
# 4 vCPU and 16 GB). US East prices; other regions differ.
DPU_HOUR_USD = 0.44
MINIMUM_BILLED_S = 60.0
VCPUS_PER_G1X = 4
GLUE_START_S = 10.0  # assumed: start-up of a Glue 5 job's Spark (billed); not measured here


def glue_cost(cpu_s: float, input_bytes: int, busy_share: float, workers: int, gb: float) -> dict:
    """Project the Glue cost of a `gb`-GB export from one local measurement: `cpu_s` CPU seconds
    over `input_bytes` bytes (the work per byte), with `busy_share` of the local cores busy on
    average (CPU s / wall / cores). Assumptions, all stated in the report: a Glue G.1X vCPU does
    the work of one local core; of `workers` G.1X workers one is the driver, the others' vCPUs
    are busy `busy_share` of the time, as locally; GLUE_START_S of billed start-up; billing per
    second with the 1-minute minimum."""
    cpu_per_gb = cpu_s / (input_bytes / 1e9)
    busy_vcpus = (workers - 1) * VCPUS_PER_G1X * min(1.0, max(busy_share, 1e-3))
    wall_s = GLUE_START_S + cpu_per_gb * gb / busy_vcpus
    billed_s = max(wall_s, MINIMUM_BILLED_S)
    usd = workers * billed_s / 3600 * DPU_HOUR_USD
    return {
        "gb": gb,
        "workers": workers,
        "cpu_s_per_gb": cpu_per_gb,
        "wall_s": wall_s,
        "billed_s": billed_s,
        "dpu_hours": workers * billed_s / 3600,
        "usd": usd,
        "usd_per_gb": usd / gb,
    }


def glue_projection(transform_results: dict, local_cores: int) -> dict:
    """The projection from the warm job on the largest default input (see glue_cost)."""
    target = largest_default_input(transform_results)
    if not target:
        return {"error": "no default input was measured"}
    summary = next(
        (
            s
            for s in transform_results.get("summaries", [])
            if s["input"] == target["label"] and s["impl"] == transform.OURS_WARM and s["ok_runs"]
        ),
        None,
    )
    if not summary:
        return {"error": f"ours (warm) did not run on {target['label']}"}
    cores_used = summary["cpu_s"] / summary["wall_s"]
    busy_share = cores_used / local_cores
    scenarios = [
        glue_cost(summary["cpu_s"], summary["input_bytes"], busy_share, workers, gb)
        for gb, workers in ((0.1, 2), (2.0, 2), (2.0, 10), (20.0, 10))
    ]
    return {
        "input": target["label"],
        "input_bytes": summary["input_bytes"],
        "cpu_s": summary["cpu_s"],
        "wall_s": summary["wall_s"],
        "cores_used": cores_used,
        "local_cores": local_cores,
        "busy_share": busy_share,
        "scenarios": scenarios,
    }
