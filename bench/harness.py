"""Measuring a process tree: wall time and peak resident memory of a command and all its children.

Every implementation runs in its own process so that its memory is attributable to it. Spark's
JVM is a child of the Python driver, so the RSS that counts is the sum over the whole tree."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SAMPLE_INTERVAL_S = 0.05


@dataclass
class Measurement:
    """One measured run: wall seconds, peak tree RSS in bytes, and the command's last JSON line."""

    wall_s: float
    peak_rss: int
    returncode: int
    cpu_s: float = float("nan")
    result: dict = field(default_factory=dict)
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _hwm_bytes(pid: int) -> int:
    """The kernel's high-water mark of one process's RSS (VmHWM), 0 when it cannot be read.
    It catches spikes shorter than the sampling interval, for one process at a time."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# A descendant younger than this is not counted. The JVM starts helpers with posix_spawn (Hadoop's
# `chmod` for each file the job writes, when it runs without lake/aws/java's file system), whose
# child shares the JVM's memory until it execs: a sample in that window counted the JVM twice
# (a warm 10M-row run "peaked" at 4.6 GB while the JVM's own peak, sampled alone, was 2.4 GB).
# No process this young holds memory worth counting.
SPAWN_GRACE_S = 0.5


class TreeSampler:
    """Samples the summed RSS of a process and all its descendants on a background thread.

    The peak reported is max(highest sampled tree sum, highest single-process VmHWM): the sum
    shows the whole tree at one moment (a JVM plus its Python driver), the high-water mark
    covers a short spike of the biggest process that a 50 ms sampler could miss.

    It also adds up the CPU seconds (user + system) the tree spent since `start()`, from the
    last sample of each process: unlike wall time, that figure hardly moves when other work
    shares the machine, and CPU / wall shows how many cores an implementation kept busy."""

    def __init__(
        self, pid: int, interval_s: float = SAMPLE_INTERVAL_S, use_hwm: bool = True
    ) -> None:
        self._root = psutil.Process(pid)
        self._interval_s = interval_s
        # VmHWM is a lifetime figure: right for a fresh process, wrong for one call of a
        # long-lived worker (its earlier calls would count), so the worker's calls turn it off.
        self._use_hwm = use_hwm
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.peak_sum = 0
        self.peak_hwm = 0
        self._cpu_start: dict[int, float] = {}
        self._cpu_last: dict[int, float] = {}

    @property
    def cpu_s(self) -> float:
        return sum(t - self._cpu_start.get(pid, 0.0) for pid, t in self._cpu_last.items())

    def _sample(self) -> None:
        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        now = time.time()
        for proc in procs:
            try:
                if proc is not self._root and now - proc.create_time() < SPAWN_GRACE_S:
                    continue
                total += proc.memory_info().rss
                times = proc.cpu_times()
            except psutil.Error:
                continue
            self._cpu_last[proc.pid] = times.user + times.system
            if self._use_hwm:
                self.peak_hwm = max(self.peak_hwm, _hwm_bytes(proc.pid))
        self.peak_sum = max(self.peak_sum, total)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval_s)

    def start(self) -> TreeSampler:
        self._sample()
        self._cpu_start = dict(self._cpu_last)  # a long-lived worker's earlier CPU is not ours
        self.peak_sum = self.peak_hwm = 0
        self._thread.start()
        return self

    def stop(self) -> int:
        """Stop sampling and return the peak in bytes."""
        self._sample()
        self._stop.set()
        self._thread.join()
        return max(self.peak_sum, self.peak_hwm)


def last_json_line(text: str) -> dict:
    """The last line of `text` that parses as a JSON object (the result line of a bench
    process or the `--json` summary of the CLI), or {}."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return {}


def run_measured(
    cmd: Sequence[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float | None = None,
) -> Measurement:
    """Run `cmd` to completion and measure wall time and the peak RSS of its process tree.
    The command's stdout is parsed for its last JSON line (its result)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    sampler = TreeSampler(proc.pid).start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        stdout, stderr = proc.communicate()
        stderr += f"\nbench: killed after {timeout_s:.0f} s"
    wall = time.perf_counter() - start
    peak = sampler.stop()
    return Measurement(
        wall_s=wall,
        peak_rss=peak,
        cpu_s=sampler.cpu_s,
        returncode=proc.returncode,
        result=last_json_line(stdout),
        stderr_tail=stderr[-3000:],
    )


def kill_tree(pid: int) -> None:
    """Kill a process we started and its descendants (the JVM would outlive its driver)."""
    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def tree_size(root: Path, suffix: str = ".parquet") -> tuple[int, int]:
    """(total bytes, file count) of the files under `root` whose names end with `suffix`
    (Spark's _SUCCESS markers and .crc side files are not data and are not counted)."""
    total = count = 0
    if root.exists():
        for path in root.rglob(f"*{suffix}"):
            if path.is_file():
                total += path.stat().st_size
                count += 1
    return total, count


def partition_file_counts(root: Path, suffix: str = ".parquet") -> dict[str, int]:
    """Data files per leaf partition folder (relative path -> count)."""
    counts: dict[str, int] = {}
    if root.exists():
        for path in root.rglob(f"*{suffix}"):
            key = str(path.parent.relative_to(root))
            counts[key] = counts.get(key, 0) + 1
    return counts
