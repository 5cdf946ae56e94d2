"""Our Glue job on local PySpark, cold and warm.

Cold: a fresh `python glue/ingest_travel_times.py ...` process, as `make run` starts it: Python
start, the JVM's start and the session's creation are all in the time.
Warm: one long-lived bench.warm_worker process whose SparkSession is already up, as under
`lake watch`; each call is timed from request to reply and its RSS is sampled on the worker's
process tree alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Measurement, TreeSampler, kill_tree
from settings import GLUE_SCRIPT, PROJECT_ROOT


@dataclass(frozen=True)
class JobPaths:
    """Where one run of the job reads and writes (plain local paths: the local runtime maps
    buckets to folders, and the bench skips that layer)."""

    source_path: Path
    source_key: str
    curated_path: Path
    manifest_path: Path

    def job_arguments(self) -> dict[str, str]:
        return {
            "source_path": str(self.source_path),
            "source_key": self.source_key,
            "curated_path": str(self.curated_path),
            "manifest_path": str(self.manifest_path),
        }

    @property
    def table_root(self) -> Path:
        """The table's data under the curated path (rejects and manifests live beside it)."""
        return self.curated_path / "travel_times"


def cold_command(paths: JobPaths, code_root: Path = PROJECT_ROOT) -> list[str]:
    """The command line `make run` would use for the job script (in `code_root`)."""
    cmd = [sys.executable, str(code_root / GLUE_SCRIPT.relative_to(PROJECT_ROOT))]
    for name, value in paths.job_arguments().items():
        cmd += [f"--{name}", value]
    return cmd


def read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def rows_written(manifest: dict) -> int | None:
    """Rows written to the table, from the job's manifest (`rows.written`)."""
    rows = manifest.get("rows")
    return rows.get("written") if isinstance(rows, dict) else None


class WarmWorker:
    """A bench.warm_worker subprocess with a warm SparkSession, driven call by call."""

    def __init__(
        self,
        home: Path,
        driver_memory: str | None = None,
        shuffle_partitions: int | None = None,
        java_options: str = "",
        code_root: Path = PROJECT_ROOT,
        cores: int | None = None,
    ):
        """Start the worker and wait for its session. `java_options` reach the JVM through
        JDK_JAVA_OPTIONS (read by every `java` launch), since the session's own
        spark.driver.extraJavaOptions is set by lake.aws.spark."""
        cmd = [
            sys.executable,
            "-m",
            "bench.warm_worker",
            "--home",
            str(home),
        ]
        if driver_memory:  # (else the runtime's own, lake.aws.spark.DRIVER_MEMORY)
            cmd += ["--driver-memory", driver_memory]
        if shuffle_partitions:
            cmd += ["--shuffle-partitions", str(shuffle_partitions)]
        if cores:
            cmd += ["--cores", str(cores)]
        home.mkdir(parents=True, exist_ok=True)
        self._stderr = open(home / "worker.stderr.log", "w")  # noqa: SIM115 - lives with the worker
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=code_root,  # `python -m` puts the cwd first on sys.path: the frozen copy wins
            env={**os.environ, "PYSPARK_PYTHON": sys.executable}
            | ({"JDK_JAVA_OPTIONS": java_options} if java_options else {}),
        )
        ready = self._read_reply()
        if not ready.get("ready"):
            self.close()
            raise RuntimeError(f"warm worker did not start; see {self._stderr.name}")
        self.startup_s = float(ready.get("startup_s", float("nan")))

    def _read_reply(self) -> dict:
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            return {}
        return json.loads(line)

    def run(self, paths: JobPaths, conf: dict[str, str] | None = None) -> Measurement:
        """Run the job once in the warm session; wall time is measured here, around the call."""
        measured, reply = self._call({"job": paths.job_arguments(), "conf": conf or {}})
        manifest = reply.get("manifest") or {}
        measured.result = {"rows_written": rows_written(manifest), "manifest": manifest}
        return measured

    def copy(self, source: Path, out: Path, city: str, source_key: str) -> Measurement:
        """Spark's floor on `source` (bench.spark_copy) in the warm session, timed as `run`."""
        request = {"source": str(source), "out": str(out), "city": city, "source_key": source_key}
        measured, reply = self._call({"copy": request})
        measured.result = {"rows_written": reply.get("rows_written")}
        return measured

    def _call(self, request: dict) -> tuple[Measurement, dict]:
        """Send one request and wait for its reply, sampling this worker's CPU and memory."""
        sampler = TreeSampler(self.proc.pid, use_hwm=False).start()
        start = time.perf_counter()
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = self._read_reply()
        wall = time.perf_counter() - start
        peak = sampler.stop()
        ok = bool(reply.get("ok"))
        measured = Measurement(
            wall_s=wall,
            peak_rss=peak,
            cpu_s=sampler.cpu_s,
            returncode=0 if ok else 1,
            stderr_tail=reply.get("error", "") + "\n" + reply.get("traceback", "")
            if not ok
            else "",
        )
        return measured, reply

    def close(self) -> None:
        if self.proc.poll() is None:
            if self.proc.stdin:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc.pid)
                self.proc.wait()
        self._stderr.close()
