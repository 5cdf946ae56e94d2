"""Helpers of the tests that run `lake` as separate processes (the background engine, `lake
serve`): each command a process of its own, as from a new shell; no JVM (the files they upload
are refused by Validate, before any Spark, and the engine does not warm up)."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

from lake.home import LakeHome
from lake.runtime.engine_lock import lock_holder, lock_is_free
from settings import PROJECT_ROOT

TIMEOUT_S = 120


def env(**extra: str) -> dict[str, str]:
    """The environment of a `lake` process: this code, warm by default, no warm-up (no JVM)."""
    values = dict(os.environ)
    values.pop("LAKE_NO_DAEMON", None)
    values.pop("LAKE_IDLE_TIMEOUT", None)
    values.update(
        PYTHONPATH=str(PROJECT_ROOT),
        LAKE_NO_WARM_UP="1",
        LAKE_TIME_SCALE="0.001",
        **extra,
    )
    return values


def lake(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """`lake ARGS --home HOME` in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "lake.ui.cli", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env(**extra),
        timeout=TIMEOUT_S,
    )


def popen(home: Path, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "lake.ui.cli", *args, "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=env(**extra),
    )


def refused_file(folder: Path, name: str = "bad.csv") -> Path:
    """A file Validate refuses at once (not an export's header): an execution that FAILED."""
    path = folder / name
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    return path


def engine_pid(home: Path) -> int | None:
    """The pid of the process that owns the home's engine now (None: nobody)."""
    lake_home = LakeHome(home)
    return None if lock_is_free(lake_home) else lock_holder(lake_home)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) is not alive
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def wait_until(condition, timeout_s: float = 90, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def stop_engine(home: Path) -> None:
    """Leave no engine behind: `lake stop`, and a kill if that did not do it."""
    pid = engine_pid(home)
    lake(home, "stop")
    if pid is not None and alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


_readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # stream -> its lines


def _lines_of(stream) -> queue.Queue:
    """The lines of a stream as a reader thread gets them (one thread per stream)."""
    lines = _readers.get(stream)
    if lines is None:
        lines = _readers[stream] = queue.Queue()

        def read() -> None:
            for line in stream:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
    return lines


def _lines_until(stream, timeout_s: float):
    """A process's lines as they come, until the stream ends or `timeout_s` has passed."""
    lines = _lines_of(stream)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return
        if line is None:
            return
        yield line


def read_line_containing(stream, text: str, timeout_s: float = 180) -> list[str]:
    """Lines of a process's stream up to the first that contains `text`."""
    got: list[str] = []
    for line in _lines_until(stream, timeout_s):
        got.append(line)
        if text in line:
            return got
    raise AssertionError(f"no line with {text!r}; got: {got}")


def rest_of(stream, timeout_s: float = 180) -> str:
    """What the stream says until it ends (after read_line_containing)."""
    return "\n".join(_lines_until(stream, timeout_s))
