"""End to end on the local runtime: the time from `lake upload` to "queryable" (the execution has
registered the file's partitions) for a small file, cold and warm, with per-state times.

- Cold: a fresh `lake upload FILE --city C --home H --json` process with no `lake watch` running:
  it starts its own engine, so Python start, the JVM and the session are in the time.
- Warm: `lake watch --home H` runs in the background; after one untimed upload (a watch that has
  served before), each `lake upload` hands its file to the watch's warm engine and follows the
  execution to its end. The time is the whole upload process, client start included.

Each upload gets a new key (a new file, the common case). Per-state times come from the
execution history, as `lake upload --json` reports them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import TreeSampler, kill_tree, last_json_line
from bench.inputs import CITY, InputSpec, ensure_input
from settings import PROJECT_ROOT

WATCH_READY_TIMEOUT_S = 180
UPLOAD_TIMEOUT_S = 900


def _lake(*args: str) -> list[str]:
    return [sys.executable, "-m", "lake.ui.cli", *args]


# Each cold upload owns its engine for its own duration, as before warm-by-default: without
# this the first would leave a background engine that serves the next ones warm (and holds a
# JVM through the rest of the benchmark). bench/cold_start.py --end-to-end measures that path.
ENV = {**os.environ, "LAKE_NO_DAEMON": "1"}


def upload(home: Path, source: Path, name: str, files: Path) -> dict:
    """One timed `lake upload`; returns wall seconds, status and per-state seconds."""
    target = files / name
    shutil.copyfile(source, target)
    start = time.perf_counter()
    done = subprocess.run(
        _lake("upload", str(target), "--city", CITY, "--home", str(home), "--json"),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=ENV,
        timeout=UPLOAD_TIMEOUT_S,
    )
    wall = time.perf_counter() - start
    summary = last_json_object(done.stdout)
    states = {
        s["name"]: s["seconds"] for s in summary.get("states", []) if s.get("seconds") is not None
    }
    return {
        "wall_s": wall,
        "status": summary.get("status", f"exit {done.returncode}"),
        "ok": done.returncode == 0,
        "states_s": states,
        "rows_written": (summary.get("counts") or {}).get("rows_written"),
        "error": "" if done.returncode == 0 else done.stderr[-1500:],
    }


def last_json_object(text: str) -> dict:
    """`lake upload --json` prints one indented JSON object; fall back to the last JSON line."""
    start = text.find("{")
    if start >= 0:
        try:
            value = json.loads(text[start:])
            if isinstance(value, dict):
                return value
        except json.JSONDecodeError:
            pass
    return last_json_line(text)


def _summarize(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["ok"]]
    states: dict[str, list[float]] = {}
    for r in ok:
        for name, seconds in r["states_s"].items():
            states.setdefault(name, []).append(seconds)
    return {
        "median_s": statistics.median([r["wall_s"] for r in ok]) if ok else None,
        "runs_s": [r["wall_s"] for r in ok],
        "states_s": {k: statistics.median(v) for k, v in states.items()},
        "failed": [r for r in runs if not r["ok"]],
        "error": "" if ok else (runs[-1]["error"] if runs else "no run"),
    }


class Watch:
    """`lake watch` in the background on a bench home (a process we start and stop)."""

    def __init__(self, home: Path, log_path: Path) -> None:
        self.log = open(log_path, "w")  # noqa: SIM115 - lives as long as the watch
        self.proc = subprocess.Popen(
            _lake("watch", "--home", str(home)),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PROJECT_ROOT,
            env=ENV,
        )
        self.log_path = log_path
        deadline = time.monotonic() + WATCH_READY_TIMEOUT_S
        while "watching" not in log_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"lake watch did not start: {log_path.read_text()[-1500:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # lets running executions finish
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc.pid)
                self.proc.wait()
        self.log.close()


def measure(plan, workdir: Path, log) -> dict:
    """Cold and warm upload-to-queryable times for a `plan.e2e_rows`-row file."""
    spec = InputSpec(rows=plan.e2e_rows)
    source = ensure_input(spec, plan.input_cache, log)
    base = workdir / "e2e"
    shutil.rmtree(base, ignore_errors=True)
    files = base / "files"
    files.mkdir(parents=True)
    result: dict = {"rows": spec.rows, "notes": []}

    cold_home = base / "cold-home"
    cold_runs = []
    for i in range(plan.e2e_repeats):
        log(
            f"e2e cold: lake upload ({spec.label} rows, fresh process) {i + 1}/"
            f"{plan.e2e_repeats} ..."
        )
        cold_runs.append(upload(cold_home, source, f"e2e-cold-{i}.csv", files))
        log(f"e2e cold {i + 1}: {cold_runs[-1]['wall_s']:.1f} s {cold_runs[-1]['status']}")
    result["cold"] = _summarize(cold_runs)
    result["notes"].append("Cold run 1 also creates the lake home, its catalog and the table.")

    warm_home = base / "warm-home"
    log("e2e warm: starting lake watch ...")
    began = time.perf_counter()
    try:
        watch = Watch(warm_home, base / "watch.log")
    except RuntimeError as e:
        result["warm"] = {"error": str(e)}
        return result
    try:
        result["watch_start_s"] = time.perf_counter() - began
        first = upload(warm_home, source, "e2e-warmup.csv", files)
        result["warmup_upload_s"] = first["wall_s"]
        log(f"e2e warm: first upload after watch started {first['wall_s']:.1f} s (untimed warm-up)")
        sampler = TreeSampler(watch.proc.pid, use_hwm=False).start()
        warm_runs = []
        for i in range(plan.e2e_repeats):
            warm_runs.append(upload(warm_home, source, f"e2e-warm-{i}.csv", files))
            log(
                f"e2e warm {i + 1}/{plan.e2e_repeats}: {warm_runs[-1]['wall_s']:.2f} s "
                f"{warm_runs[-1]['status']}"
            )
        result["watch_peak_rss"] = sampler.stop()
        result["warm"] = _summarize(warm_runs)
    finally:
        watch.stop()
    result["notes"].append(
        f"lake watch started in {result['watch_start_s']:.1f} s; its first upload took "
        f"{result['warmup_upload_s']:.1f} s (untimed warm-up); its process tree peaked at "
        f"{result['watch_peak_rss'] / 2**20:,.0f} MiB during the timed uploads."
    )
    return result
