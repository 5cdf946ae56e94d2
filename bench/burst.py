"""A burst: N exports dropped into the raw bucket at once under `lake watch` (issue 11: "50
files dropped at once under `lake watch`: all succeed").

`python -m bench.burst [--files 50] [--rows 2000] [--parallel 2] [--home DIR]` starts
`lake watch` on a fresh home, waits until it watches, then moves N generated exports into the
raw bucket folder together (each written beside it first, then renamed in: they appear at once,
whole), and waits until every execution has ended. It prints a table and one JSON line:
total seconds from the drop to the last execution's end, executions by status (the goal: all
SUCCEEDED), and how the Glue job's run queue behaved (the runs that waited their turn and the
longest wait, read from the executions' logs; the local limit is one run at a time, the others
queue, see lake/aws/glue.py).

`measure(plan, workdir, log)` has the shape of the harness's sections (see bench/suite.py), so
`make bench` can run it as a section (plan.burst_files, plan.burst_rows when present)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCH_READY_TIMEOUT_S = 300
WAITED = re.compile(r"waited ([0-9.]+) s for its turn")


def _lake(*args: str) -> list[str]:
    return [sys.executable, "-m", "lake.ui.cli", *args]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), LAKE_NO_DAEMON="1")


def run_burst(
    home: Path, files: int, rows: int, parallel: int, log=print, timeout_s: float = 3600
) -> dict:
    from lake.home import LakeHome
    from lake.runtime.history_db import ExecutionStore
    from lake.ui.generate import generate

    lake_home = LakeHome(home)
    staging = home.parent / f"{home.name}-burst-files"
    staging.mkdir(parents=True, exist_ok=True)
    log(f"burst: generating {files} exports of {rows:,} rows ...")
    for i in range(files):
        generate(staging / f"burst-{i:03d}.csv", rows=rows, seed=100 + i, city="bogota")
    watch_log = home.parent / f"{home.name}-watch.log"
    with open(watch_log, "w") as output:
        watch = subprocess.Popen(
            _lake("watch", "--home", str(home), "--parallel", str(parallel)),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=_env(),
        )
    result: dict = {"files": files, "rows_per_file": rows, "parallel": parallel}
    try:
        deadline = time.monotonic() + WATCH_READY_TIMEOUT_S
        while "watching" not in watch_log.read_text():
            if watch.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lake watch did not start: {watch_log.read_text()[-1500:]}")
            time.sleep(0.2)
        raw = lake_home.bucket_path(lake_home.settings.raw_bucket) / "travel_times" / "bogota"
        raw.mkdir(parents=True, exist_ok=True)
        # Beside the folder first (hidden names are ignored), then renamed in, all together.
        for path in staging.iterdir():
            shutil.copyfile(path, raw / f".{path.name}")
        log(f"burst: dropping {files} files at once ...")
        dropped = time.perf_counter()
        for path in staging.iterdir():
            os.rename(raw / f".{path.name}", raw / path.name)
        store = ExecutionStore(lake_home.db_path)
        deadline = time.monotonic() + timeout_s
        while True:
            records = store.list_executions()
            ended = [r for r in records if r.finished]
            if len(records) >= files and len(ended) == len(records):
                break
            if time.monotonic() > deadline or watch.poll() is not None:
                result["error"] = (
                    f"{len(ended)} of {files} executions ended before "
                    f"{'the watch stopped' if watch.poll() is not None else 'the timeout'}"
                )
                break
            time.sleep(0.5)
        result["total_s"] = time.perf_counter() - dropped
        records = store.list_executions()
        result["statuses"] = dict(Counter(r.status for r in records))
        result["failed"] = [
            {"key": r.source_key, "status": r.status, "error": r.error}
            for r in records
            if r.status != "SUCCEEDED"
        ]
        waits = []
        for r in records:
            log_file = lake_home.execution_log(r.name)
            if log_file.exists():
                waits += [float(w) for w in WAITED.findall(log_file.read_text())]
        result["glue_runs_waited"] = len(waits)
        result["glue_longest_wait_s"] = max(waits, default=0.0)
        result["all_succeeded"] = result["statuses"] == {"SUCCEEDED": files}
    finally:
        if watch.poll() is None:
            watch.send_signal(signal.SIGINT)
            try:
                watch.wait(timeout=300)
            except subprocess.TimeoutExpired:
                watch.kill()
                watch.wait()
    return result


def measure(plan, workdir: Path, log) -> dict:
    """The harness's section: a burst on a fresh home under `workdir`."""
    home = workdir / "burst" / "home"
    shutil.rmtree(home.parent, ignore_errors=True)
    home.parent.mkdir(parents=True)
    return run_burst(
        home,
        files=getattr(plan, "burst_files", 50),
        rows=getattr(plan, "burst_rows", 2_000),
        parallel=2,
        log=log,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--home", type=Path, help="a fresh lake home (default: a temp folder)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="lake-burst-"))
    home = (args.home or work / "home").resolve()
    if home.exists():
        raise SystemExit(f"{home} exists: the burst needs a fresh home")
    result = run_burst(home, args.files, args.rows, args.parallel)
    print(
        f"{args.files} files of {args.rows:,} rows dropped at once under lake watch "
        f"(--parallel {args.parallel}): {result.get('total_s', 0):.1f} s to the last end; "
        f"{result.get('statuses')}; {result.get('glue_runs_waited')} Glue runs waited their "
        f"turn (longest {result.get('glue_longest_wait_s', 0):.1f} s)"
        + (f"; error: {result['error']}" if result.get("error") else "")
    )
    print(json.dumps(result))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if result.get("all_succeeded") else 1


if __name__ == "__main__":
    sys.exit(main())
