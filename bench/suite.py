"""One benchmark run, start to finish: inputs, the transform comparison, the end-to-end runtime,
the catalog and the query; the results are kept as JSON so the report can be re-rendered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import snapshot, transform
from bench.harness import last_json_line
from bench.inputs import CITY, InputSpec, ensure_input
from bench.ours import WarmWorker
from bench.system import describe
from settings import GLUE_SCRIPT, PROJECT_ROOT

OUT = PROJECT_ROOT / "bench" / "out"  # gitignored: cached inputs, outputs, results.json
LARGE_ROWS = 5_000_000  # inputs this big get `large_runs` repetitions


@dataclass
class Plan:
    """What one run measures. `full()` and `quick()` are the two named sets."""

    sizes: list[int]
    daily_rows: int
    runs: int
    large_runs: int
    impls: list[str]
    catalog_levels: list[int]
    catalog_repeats: int
    e2e_rows: int = 10_000
    e2e_repeats: int = 3
    sections: list[str] = field(
        default_factory=lambda: [
            "transform",
            "cores",
            "e2e",
            "cold_start",
            "burst",
            "catalog",
            "query",
        ]
    )
    cold_rows: int = 20_000  # issue 11: `lake upload` of the demo's 20k rows, fresh then warm
    cold_runs: int = 2
    cold_pause_s: float = 5.0  # a person's next command comes a little later
    burst_files: int = 50
    burst_rows: int = 2_000
    driver_memory: str | None = None  # the runtime's own (lake.aws.spark.DRIVER_MEMORY)
    java_options: str = ""  # JDK_JAVA_OPTIONS for ours, cold and warm (e.g. JIT flags)
    warm_conf: dict[str, str] = field(default_factory=dict)
    out: Path = OUT
    code: str = "head"  # the code under test: last commit ("head") or the working tree

    @property
    def input_cache(self) -> Path:
        return self.out / "inputs"

    @classmethod
    def full(cls) -> Plan:
        return cls(
            sizes=[100_000, 1_000_000, 10_000_000],
            daily_rows=1_000_000,
            runs=3,
            large_runs=1,
            impls=list(transform.IMPLEMENTATIONS),
            catalog_levels=[10, 100, 1000],
            catalog_repeats=5,
        )

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            sizes=[20_000, 100_000],
            daily_rows=50_000,
            runs=2,
            large_runs=1,
            impls=list(transform.IMPLEMENTATIONS),
            catalog_levels=[10, 100],  # 1,000 needs minutes of untimed filler: full run only
            catalog_repeats=3,
            e2e_repeats=2,
            burst_files=6,
            burst_rows=500,
        )

    def inputs(self) -> list[InputSpec]:
        specs = [InputSpec(rows=n) for n in self.sizes]
        if self.daily_rows:
            specs.append(InputSpec(rows=self.daily_rows, date_ranges="daily"))
        return specs

    def runs_for(self, spec: InputSpec) -> int:
        return self.large_runs if spec.rows >= LARGE_ROWS else self.runs


def ours_available() -> bool:
    """The Glue job can be benchmarked once its script and its importable run() exist."""
    return GLUE_SCRIPT.exists() and (PROJECT_ROOT / "glue" / "job.py").exists()


def run_transform(plan: Plan, workdir: Path, log: Callable[[str], None]) -> dict:
    impls = list(plan.impls)
    if not ours_available():
        log(
            "the Glue job (glue/job.py, glue/ingest_travel_times.py) is not there yet: "
            "measuring the peers only"
        )
        impls = [i for i in impls if i not in (transform.OURS_COLD, transform.OURS_WARM)]
    specs = plan.inputs()
    sources = {spec: ensure_input(spec, plan.input_cache, log) for spec in specs}
    code = snapshot.take(plan.out / "code", plan.code)
    code_root = Path(code["root"])
    log(f"measuring the code of {code['commit']} ({code['source']}), frozen in {code_root}")
    workers: dict[str, WarmWorker] = {}
    warm_info = {}
    # Each implementation that runs warm gets a worker of its own: a JVM keeps the heap it has
    # grown, so in a shared one each would inherit the other's, and its peak memory with it.
    for impl in (i for i in impls if i in transform.IN_WARM_WORKER):
        log(f"starting a warm worker (one SparkSession for all its runs): {transform.LABELS[impl]}")
        workers[impl] = worker = WarmWorker(
            workdir / f"warm-home-{impl}",
            driver_memory=plan.driver_memory,
            java_options=plan.java_options,
            code_root=code_root,
        )
        smallest = min(specs, key=lambda s: s.rows)
        # One untimed call first, as a watch process would have served earlier uploads.
        began = time.perf_counter()
        transform.run_once(
            impl, smallest, sources[smallest], workdir, worker, plan.warm_conf, code_root=code_root
        )
        warmup_s = time.perf_counter() - began
        log(f"warm worker up in {worker.startup_s:.1f} s; warm-up call {warmup_s:.1f} s")
        if impl == transform.OURS_WARM:
            warm_info = {"startup_s": worker.startup_s, "warmup_call_s": warmup_s}
    records: list[transform.RunRecord] = []
    try:
        for spec in specs:
            records += transform.measure_input(
                spec,
                sources[spec],
                impls,
                plan.runs_for(spec),
                workdir,
                workers,
                log,
                plan.warm_conf,
                plan.java_options,
                code_root,
            )
    finally:
        for worker in workers.values():
            worker.close()
    return {
        "inputs": [
            {
                "label": s.label,
                "rows": s.rows,
                "date_ranges": s.date_ranges,
                "bytes": sources[s].stat().st_size,
                "file": sources[s].name,
                "runs": plan.runs_for(s),
            }
            for s in specs
        ],
        "records": transform.as_dicts(records),
        "summaries": transform.as_dicts(transform.summarize(records)),
        "warm": warm_info,
        "impls": impls,
        "code": code,
    }


def run_json_module(module: str, args: list[str], log, timeout_s: float = 3600) -> dict:
    """Run `python -m module args` in its own process; its result is its last JSON line."""
    cmd = [sys.executable, "-m", module, *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=timeout_s)
    result = last_json_line(done.stdout)
    if done.returncode != 0 or not result:
        log(f"{module} failed:\n{done.stderr[-2000:]}")
        return {"error": done.stderr[-2000:] or f"exit {done.returncode}"}
    return result


def run_catalog(plan: Plan, workdir: Path, log) -> dict:
    home = workdir / "catalog-home"
    shutil.rmtree(home, ignore_errors=True)
    log(
        f"catalog: registering one file's partitions with {plan.catalog_levels} partitions "
        "already in the table ..."
    )
    return run_json_module(
        "bench.catalog",
        [
            "--home",
            str(home),
            "--levels",
            ",".join(map(str, plan.catalog_levels)),
            "--repeats",
            str(plan.catalog_repeats),
        ],
        log,
    )


def run_query(plan: Plan, workdir: Path, transform_results: dict, log) -> dict:
    """Ask the question of the lake written (last run) for the largest default-ranges input:
    our job's output if it wrote one, else DuckDB's (same layout), and of that input's CSV."""
    inputs = [i for i in transform_results.get("inputs", []) if i["date_ranges"] == "default"]
    if not inputs:
        return {"error": "no default-ranges input was measured"}
    target = max(inputs, key=lambda i: i["rows"])
    spec = InputSpec(rows=target["rows"])
    written = [
        (impl, transform.table_root(workdir, impl, spec))
        for impl in (transform.OURS_WARM, transform.OURS_COLD, transform.DUCKDB)
        if impl in transform_results.get("impls", [])
    ]
    written = [(impl, root) for impl, root in written if any(root.rglob("*.parquet"))]
    if not written:
        return {"error": f"no lake was written for {target['label']}"}
    writer, lake = written[0]
    source = plan.input_cache / target["file"]
    log(f"query: one city/day on the lake ({writer}'s output of {target['label']}) vs the CSV")
    result = run_json_module(
        "bench.query", ["--lake", str(lake), "--csv", str(source), "--city", CITY], log
    )
    return {**result, "input": target["label"], "lake_written_by": writer}


def _cores(plan: Plan, workdir: Path, results: dict, log) -> dict:
    from bench import scale

    return scale.run_cores(plan, workdir, results.get("transform") or {}, log)


def _cold_start(plan: Plan, workdir: Path, log) -> dict:
    from bench import scale

    return scale.run_cold_start(plan, workdir, log, run_json_module)


def _burst(plan: Plan, workdir: Path, log) -> dict:
    from bench import scale

    return scale.run_burst(plan, workdir, log)


def _e2e(plan: Plan, workdir: Path, log) -> dict:
    from bench import e2e  # the local runtime's CLI is only needed for this section

    return e2e.measure(plan, workdir, log)


def run(plan: Plan, command: str, log: Callable[[str], None]) -> dict:
    """Run every section of `plan`; returns everything the report needs."""
    workdir = plan.out / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_at_start = _load()
    results: dict = {
        "command": command,
        "system": describe(),
        "plan": {k: str(v) if isinstance(v, Path) else v for k, v in plan.__dict__.items()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "local_cores": os.cpu_count() or 1,
    }
    sections = {
        "transform": lambda: run_transform(plan, workdir, log),
        "cores": lambda: _cores(plan, workdir, results, log),
        "e2e": lambda: _e2e(plan, workdir, log),
        "cold_start": lambda: _cold_start(plan, workdir, log),
        "burst": lambda: _burst(plan, workdir, log),
        "catalog": lambda: run_catalog(plan, workdir, log),
        "query": lambda: run_query(plan, workdir, results.get("transform") or {}, log),
    }
    for name, section in sections.items():
        if name not in plan.sections:
            continue
        try:
            results[name] = section()
        except Exception as e:  # one broken section must not lose the others' numbers
            log(f"{name} failed: {type(e).__name__}: {e}")
            results[name] = {"error": f"{type(e).__name__}: {e}"}
    results["total_s"] = time.perf_counter() - started
    # Other work on the machine slows wall times (not CPU seconds): say how busy it was.
    results["system"]["load average (1/5/15 min) at start"] = load_at_start
    results["system"]["load average (1/5/15 min) at end"] = _load()
    return results


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def save(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str))
