"""Where the cold path of a fresh `lake upload` spends its seconds (issue 11 item 4).

`python -m bench.cold_start [--rows 20000] [--home DIR] [--runs 2]` runs, in this one fresh
process and in order, each step a cold `lake upload` pays, timed on its own:

  python imports   pyspark and the runtime's modules
  jvm              SparkSession.builder.getOrCreate() (the JVM, SparkContext, Hive support
                   configured but not started)
  transform 1..n   the Glue script on the export, through the local Glue integration
                   (run 1 pays the first query's compilation and class loading; later runs
                   are warm). The job does not use the catalog, so the runtime no longer
                   starts the catalog before it (`--catalog-first`: the old order)
  catalog          the first catalog call: Hive's client and the Derby metastore start
                   (CREATE DATABASE)
  table            the contract's CREATE TABLE (Athena's DDL, run verbatim)
  register         the workflow's ALTER TABLE ... ADD PARTITION (first, then warm)

then prints a table and one JSON line (for the report). The same steps are what the background
engine runs while it warms up (`lake.runtime.daemon`), so the numbers say what a warm-up saves.

`--end-to-end` instead times whole `lake upload` processes from a new shell, each the way a
person runs it: the first on a fresh home (it starts the background engine) and the next ones
served warm by it (`--pause S` between them: a person's next command comes a little later,
and the engine warms up meanwhile); then `lake stop`. `--no-daemon` adds LAKE_NO_DAEMON=1 (the
old way: each command owns the engine for its own duration). The load average before and after
is printed: on a shared machine the numbers mean little under load.

`--code DIR` times the `lake` of another checkout (e.g. an export of the commit before this
work: `git archive BASE | tar -x -C /tmp/base`), for before/after numbers on the same machine
and file."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lake(*args: str) -> list[str]:
    return [sys.executable, "-m", "lake.ui.cli", *args]


CODE = ROOT  # the checkout whose `lake` --end-to-end runs (--code)


def _env(no_daemon: bool) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(CODE))
    env.pop("LAKE_NO_DAEMON", None)
    if no_daemon:
        env["LAKE_NO_DAEMON"] = "1"
    return env


def _export(path: Path, rows: int, seed: int = 2019) -> Path:
    from lake.ui.generate import generate

    if not path.exists():
        generate(path, rows=rows, seed=seed, city="bogota")
    return path


CPU: dict[str, float] = {}  # CPU seconds of each step (this process and the JVM)


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its children (the JVM): on a shared,
    loaded machine wall time grows with the others' load, CPU time much less."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


def steps(
    home: Path, source: Path, runs: int, catalog_first: bool = False
) -> list[tuple[str, float]]:
    """Each cold step in this process, timed."""
    timings: list[tuple[str, float]] = []

    def timed(name: str, fn):
        start, cpu = time.perf_counter(), _cpu_seconds()
        value = fn()
        timings.append((name, time.perf_counter() - start))
        CPU[name] = _cpu_seconds() - cpu
        return value

    def imports():
        import pyspark.sql  # noqa: F401

        import lake.runtime.engine  # noqa: F401

    timed("python imports", imports)
    from contract.table import create_table_sql, register_partitions_statements
    from lake.asl import TaskRequest
    from lake.aws.glue import GlueStartJobRun
    from lake.aws.spark import local_spark_session
    from lake.aws.sql_engine import run_sql
    from lake.home import LakeHome
    from lake.runtime.engine import table_location
    from settings import GLUE_SCRIPT

    lake_home = LakeHome(home).ensure()
    spark = timed("jvm", lambda: local_spark_session(home))
    s = lake_home.settings

    def catalog():
        timed("catalog", lambda: run_sql(spark, f"CREATE DATABASE IF NOT EXISTS `{s.database}`"))
        timed(
            "table",
            lambda: run_sql(
                spark, create_table_sql(s.database, s.table, table_location(lake_home))
            ),
        )

    if catalog_first:
        catalog()
    glue = GlueStartJobRun(lake_home, GLUE_SCRIPT, lambda: spark)
    for run in range(1, runs + 1):
        key = f"travel_times/bogota/cold-{run}.csv"
        target = lake_home.object_path(s.raw_bucket, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        request = TaskRequest(
            resource="arn:aws:states:::glue:startJobRun.sync",
            state_name="Transform",
            timeout_seconds=None,
            parameters={
                "JobName": s.transform_job_name,
                "Arguments": {
                    "--source_path": f"s3://{s.raw_bucket}/{key}",
                    "--source_key": key,
                    "--manifest_path": f"s3://{s.curated_bucket}/manifests/cold-{run}.json",
                },
            },
            context={"Execution": {"Name": f"cold-start-{run}"}},
        )
        timed(f"transform {run}", lambda request=request: glue(request))
        if run == 1 and not catalog_first:
            catalog()
        manifest = json.loads(
            lake_home.object_path(s.curated_bucket, f"manifests/cold-{run}.json").read_text()
        )
        partitions = [
            {k: p[k] for k in ("city", "year", "month", "day")}
            for p in manifest["partitions_written"]
        ]
        statements = register_partitions_statements(s.database, s.table, partitions)

        def register(statements=statements):
            for statement in statements:
                run_sql(spark, statement, s.database)

        timed(f"register {run}", register)
    return timings


def end_to_end(
    home: Path, source: Path, runs: int, no_daemon: bool, pause_s: float = 0.0
) -> list[tuple[str, float]]:
    """Whole `lake upload` processes, each from a new shell, `pause_s` apart (a person's next
    command comes a little later: the engine warms up meanwhile); the engine stopped at the
    end."""
    timings = []
    files = home.parent / f"{home.name}-files"
    files.mkdir(parents=True, exist_ok=True)
    env = _env(no_daemon)
    try:
        for run in range(1, runs + 1):
            if run > 1 and pause_s:
                time.sleep(pause_s)
            target = files / f"e2e-{run}.csv"
            shutil.copyfile(source, target)
            start = time.perf_counter()
            done = subprocess.run(
                _lake("upload", str(target), "--city", "bogota", "--home", str(home), "--json"),
                capture_output=True,
                text=True,
                cwd=CODE,
                env=env,
                timeout=900,
            )
            took = time.perf_counter() - start
            label = "first upload (fresh home)" if run == 1 else f"upload {run} (new shell)"
            if done.returncode != 0:
                label += f" FAILED: {done.stderr.strip()[-300:]}"
            timings.append((label, took))
    finally:
        if (CODE / "lake" / "runtime" / "daemon.py").exists():
            subprocess.run(
                _lake("stop", "--home", str(home)),
                cwd=CODE,
                env=env,
                timeout=300,
                capture_output=True,
            )
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--home", type=Path, help="a fresh lake home (default: a temp folder)")
    parser.add_argument("--end-to-end", action="store_true", help="time whole `lake upload`s")
    parser.add_argument("--no-daemon", action="store_true", help="with --end-to-end: opt out")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="with --end-to-end: seconds between uploads"
    )
    parser.add_argument(
        "--catalog-first", action="store_true", help="start the catalog before the first run"
    )
    parser.add_argument("--code", type=Path, help="with --end-to-end: another checkout's lake")
    args = parser.parse_args(argv)
    global CODE
    if args.code:
        CODE = args.code.resolve()
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="lake-cold-"))
    home = (args.home or work / "home").resolve()
    if home.exists():
        raise SystemExit(f"{home} exists: the cold path needs a fresh home")
    source = _export(work / f"export-{args.rows}.csv", args.rows)
    if args.end_to_end:
        timings = end_to_end(home, source, max(args.runs, 2), args.no_daemon, args.pause)
    else:
        timings = steps(home, source, args.runs, args.catalog_first)
    width = max(len(name) for name, _ in timings)
    for name, seconds in timings:
        cpu = f"  {CPU[name]:7.2f} s CPU" if name in CPU else ""
        print(f"{name:<{width}}  {seconds:7.2f} s{cpu}")
    load = os.getloadavg()[0]
    print(f"load average after: {load:.2f} (1 min) on {os.cpu_count()} cores")
    print(json.dumps({"rows": args.rows, "steps": dict(timings), "cpu": CPU, "load_after": load}))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
