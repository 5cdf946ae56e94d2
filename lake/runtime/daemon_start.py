"""Starting the background engine of a lake home (the client's side; `lake.runtime.daemon` is
the process it starts): exactly once, however many commands race to start it, and with a clear
message when it does not come up."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lake.home import LakeHome, keep_private
from lake.runtime.daemon_options import NO_DAEMON_ENV, idle_timeout_from_env
from lake.runtime.engine_client import connect
from lake.runtime.engine_lock import lock_is_free
from lake.runtime.errors import EngineError

START_TIMEOUT_S = 120.0  # until the new engine answers on its socket (imports, opening)

_children: list[subprocess.Popen] = []  # started daemons (kept: never waited for here)


def _project_root() -> str:
    """The folder the running `lake` package was imported from: the daemon runs the same code."""
    return str(Path(__file__).resolve().parents[2])


def spawn(
    home: LakeHome, *, idle_timeout_s: float, parallel: int = 2, time_scale: float = 1.0
) -> subprocess.Popen:
    """Start the background engine of `home`, detached (its own session, no terminal), its
    output appended to `<home>/logs/engine.log`."""
    keep_private()
    home.make_root()
    home.logs.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = dict(os.environ)
    root = _project_root()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.pop(NO_DAEMON_ENV, None)
    command = [
        sys.executable,
        "-m",
        "lake.runtime.daemon",
        "--home",
        str(home.root),
        "--idle-timeout",
        str(idle_timeout_s),
        "--parallel",
        str(parallel),
        "--time-scale",
        str(time_scale),
    ]
    with open(home.engine_log, "ab") as output:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=str(home.root),
            env=env,
            start_new_session=True,  # no terminal: Ctrl-C in the shell that started it is not its
            close_fds=True,
        )
    _children.append(proc)
    return proc


def _log_tail(home: LakeHome, lines: int = 12) -> str:
    try:
        return "\n".join(home.engine_log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _spawn_lock(home: LakeHome, timeout_s: float):
    """The lock the one starter holds; the others wait for it (then find the engine)."""
    home.make_root()
    with open(home.spawn_lock_path, "a+b") as file:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"another lake command has been starting the engine of {home.root} for "
                        f"{timeout_s:.0f} s; see {home.engine_log}"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def start_daemon(
    home: LakeHome,
    *,
    idle_timeout_s: float | None = None,
    on_starting: Callable[[], None] | None = None,
    parallel: int = 2,
    time_scale: float = 1.0,
    timeout_s: float = START_TIMEOUT_S,
) -> Any:
    """Start the background engine of `home` unless someone serves it already; a connection to
    whoever serves it (a RemoteEngine whose `started_daemon` says whether this call started
    it), or None when another owner holds the home without serving yet (ask again)."""
    idle = idle_timeout_from_env() if idle_timeout_s is None else idle_timeout_s
    with _spawn_lock(home, timeout_s):
        remote = connect(home)  # started by the command we waited for
        if remote is not None or not lock_is_free(home):
            return remote
        if on_starting is not None:
            on_starting()
        proc = spawn(home, idle_timeout_s=idle, parallel=max(parallel, 2), time_scale=time_scale)
        deadline = time.monotonic() + timeout_s
        while True:
            remote = connect(home)
            if remote is not None:
                remote.started_daemon = remote.owner_pid == proc.pid
                return remote
            if proc.poll() is not None:
                if not lock_is_free(home):
                    return None  # another owner took the home first: the caller asks it
                raise EngineError(
                    f"the background engine of {home.root} did not start (exit status "
                    f"{proc.returncode}); its log {home.engine_log} ends with:\n"
                    f"{_log_tail(home)}\n(LAKE_NO_DAEMON=1 runs the engine in the command itself)"
                )
            if time.monotonic() > deadline:
                raise EngineError(
                    f"the background engine of {home.root} (pid {proc.pid}) did not answer "
                    f"within {timeout_s:.0f} s; see {home.engine_log}"
                )
            time.sleep(0.05)
