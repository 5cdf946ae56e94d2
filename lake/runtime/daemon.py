"""The background engine of a lake home: warm by default.

The first `lake` command that needs the engine (upload, query, rerun, redrive, demo) and finds
no one serving the home starts this as a detached process (`python -m lake.runtime.daemon`),
says so in one line, and is then its first client; every later command, from any shell, is
served warm by it. It:

- owns the engine (the home's lock) and serves it on the home's socket (`lake.runtime.service`);
- warms up while nobody waits: the SparkSession at once, then the catalog (a first Glue run
  does not wait for it: the job does not use it), then, when no request and no execution has
  come for a moment, a few runs of the real Glue script on a small export in a scratch folder
  and a query, so that the next upload finds the job's code compiled (the JVM's JIT too);
- stops when idle (no request and no running execution) for `--idle-timeout` (default 15 min,
  LAKE_IDLE_TIMEOUT; 0 never), on `lake stop`, or on SIGTERM/SIGINT: it stops taking requests,
  lets running executions finish (queued ones that never began end interrupted, to be
  redriven or picked up by the next `lake watch`), and exits;
- logs to `<home>/logs/engine.log`.

Started exactly once: a command that would start it holds `<home>/engine.spawn.lock` while it
starts it and waits for its socket, so a second command racing it waits and then connects; and
the daemon itself takes the engine lock before anything else, so a second daemon could only
leave at once. A daemon that died (killed, crashed) leaves a socket nobody answers and a free
lock: the next command sees both and starts a new one.

`LAKE_NO_DAEMON=1` or `--no-daemon` opts out: the command then owns the engine for its own
duration, as before. `lake serve` is the same kind of process in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lake.home import LakeHome, keep_private
from lake.runtime.errors import EngineError

DEFAULT_IDLE_TIMEOUT_S = 15 * 60.0
IDLE_ENV = "LAKE_IDLE_TIMEOUT"
NO_DAEMON_ENV = "LAKE_NO_DAEMON"
NO_WARM_UP_ENV = "LAKE_NO_WARM_UP"  # tests: serve without starting Spark until a request does
START_TIMEOUT_S = 120.0  # until the new engine answers on its socket (imports, opening)
WARM_UP_AFTER_QUIET_S = 1.0
WARM_UP_ROWS = 5_000
WARM_UP_RUNS = 3
WARM_UP_JOB_GROUP = "lake-engine-warm-up"

log = logging.getLogger("lake.engine")
_children: list[subprocess.Popen] = []  # started daemons (kept: never waited for here)


# --- options ---------------------------------------------------------------------------------
def parse_duration(text: str | float | int) -> float:
    """Seconds from `900`, `900s`, `15m`, `1h` or `0` (never)."""
    if isinstance(text, int | float):
        return float(text)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration: write e.g. 900, 90s, 15m or 1h (0: never)")
    value, unit = float(match.group(1)), (match.group(2) or "s")
    return value * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]


def idle_timeout_from_env(explicit: str | float | None = None) -> float:
    """The idle timeout: the flag beats LAKE_IDLE_TIMEOUT, which beats 15 minutes."""
    if explicit is not None:
        return parse_duration(explicit)
    value = os.environ.get(IDLE_ENV)
    return parse_duration(value) if value else DEFAULT_IDLE_TIMEOUT_S


def daemon_wanted(no_daemon_flag: bool = False) -> bool:
    """Whether commands start (and use) a background engine: not with --no-daemon or
    LAKE_NO_DAEMON set to anything but 0/false/no/empty."""
    value = os.environ.get(NO_DAEMON_ENV, "").strip().lower()
    return not no_daemon_flag and value in ("", "0", "false", "no")


def describe_duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def describe_idle(seconds: float) -> str:
    if seconds <= 0:
        return "runs until `lake stop`"
    return f"stops after {describe_duration(seconds)} idle"


# --- starting it (the client side) ----------------------------------------------------------
def _project_root() -> str:
    """The folder the running `lake` package was imported from: the daemon runs the same code."""
    import lake

    return str(Path(lake.__file__).resolve().parent.parent)


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
    import fcntl

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
    from lake.runtime.service import connect, lock_is_free

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


# --- warming up ------------------------------------------------------------------------------
def warm_up(engine: Any, quiet: Callable[[], bool], stop: threading.Event) -> None:
    """Start Spark and the catalog now, then, while nothing else runs, run the Glue script on a
    small export in a scratch folder and a query, so that the first real run finds the code
    paths compiled. Never competes with real work: the job runs only when `quiet()`."""
    began = time.monotonic()
    try:
        engine.session()  # the JVM: what a first Glue run waits for
        log.info("warm-up: Spark ready in %.1f s", time.monotonic() - began)
        began = time.monotonic()
        engine.spark()  # the catalog (Hive, Derby) and the table: meanwhile, a run may go on
        log.info("warm-up: the catalog ready in %.1f s", time.monotonic() - began)
    except Exception:
        log.exception("warm-up: could not start Spark (a request will try again)")
        return
    quiet_since = None
    runs = 0
    scratch = engine.home.root / "engine-warm-up"
    try:
        while runs < WARM_UP_RUNS and not stop.is_set():
            if not quiet():
                quiet_since = None
                if stop.wait(0.2):
                    return
                continue
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since < WARM_UP_AFTER_QUIET_S:
                if stop.wait(0.1):
                    return
                continue
            t0 = time.monotonic()
            if _warm_up_run(engine, scratch, runs, quiet):
                runs += 1
                log.info("warm-up: job run %d on %d rows in %.1f s", runs, WARM_UP_ROWS,
                         time.monotonic() - t0)  # fmt: skip
            else:
                quiet_since = None
                log.info("warm-up: a job run gave way to a request after %.1f s",
                         time.monotonic() - t0)  # fmt: skip
        if not stop.is_set():
            t0 = time.monotonic()
            engine.query(f"SELECT count(*) FROM `{engine.home.settings.table}` WHERE year = 0")
            log.info("warm-up: query in %.1f s; warm", time.monotonic() - t0)
    except Exception:
        log.exception("warm-up failed (the engine still serves; the first run will be slower)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _warm_up_run(engine: Any, scratch: Path, run: int, quiet: Callable[[], bool]) -> bool:
    """One run of the real Glue script through the local Glue integration (and its run queue),
    on a generated export, writing only under `scratch`. It gives way to real work: its Spark
    jobs run in a job group of their own, cancelled as soon as a request or an execution
    comes (False then: the run did not finish)."""
    from lake.asl import TaskFailure, TaskRequest
    from lake.aws.glue import GlueStartJobRun

    settings = engine.home.settings
    source = scratch / "raw" / "travel_times" / "bogota" / "warm-up.csv"
    if not source.exists():
        write_warm_up_export(source, WARM_UP_ROWS)
    curated = scratch / f"curated-{run}"
    glue = GlueStartJobRun(
        engine.home,
        engine.glue_script,
        engine.session,
        defaults={
            "--curated_path": curated.as_uri() + "/",
            "--database": settings.database,
            "--table": settings.table,
            "--reject_threshold": str(settings.reject_threshold),
        },
    )
    request = TaskRequest(
        resource="arn:aws:states:::glue:startJobRun.sync",
        parameters={
            "JobName": settings.transform_job_name,
            "Arguments": {
                "--source_path": source.as_uri(),
                "--source_key": "travel_times/bogota/warm-up.csv",
                # (in the curated bucket, as the job requires: its statements sit beside it)
                "--manifest_path": (curated / "manifests" / "warm-up.json").as_uri(),
            },
        },
        state_name="Transform",
        context={"Execution": {"Name": "engine-warm-up"}},
        timeout_seconds=None,
    )
    context = engine.session().sparkContext
    # (a job group is this thread's: Spark pins Python threads to JVM threads)
    context.setJobGroup(WARM_UP_JOB_GROUP, "warm-up", interruptOnCancel=True)
    finished = threading.Event()
    gave_way = threading.Event()

    def give_way() -> None:
        while not finished.wait(0.1):
            if gave_way.is_set() or not quiet():
                gave_way.set()
                # again and again: a cancel ends the group's running jobs, not the next ones
                context.cancelJobGroup(WARM_UP_JOB_GROUP)

    threading.Thread(target=give_way, name="warm-up-gives-way", daemon=True).start()
    try:
        glue(request)
    except TaskFailure:
        if not gave_way.is_set():
            raise
    finally:
        finished.set()
        for key in ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel"):
            context.setLocalProperty(key, None)  # this thread's later jobs are no warm-up's
        engine.home.execution_log("engine-warm-up").unlink(missing_ok=True)
    return not gave_way.is_set()


def write_warm_up_export(path: Path, rows: int) -> Path:
    """A small export in the contract's shape (quoted names, weekly and monthly ranges, one bad
    row), enough to take the job through every step of a real run."""
    import csv

    from contract.formats import TRAVEL_TIMES

    ranges = [
        "1/7/2019 - 1/13/2019, Weekdays, Evening (7PM - 12AM)",
        "2/1/2019 - 2/28/2019, Weekends, AM Peak (7AM - 10AM)",
        "3/4/2019 - 3/10/2019, Every day, Daily Average",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(TRAVEL_TIMES.required_headers)
        for i in range(rows):
            origin, destination = i % 97 + 1, (i * 7) % 89 + 1
            mean = 300 + (i * 37) % 2400
            writer.writerow(
                [
                    origin,
                    f"Zona {origin}, Bogotá",
                    destination,
                    f'Calle "{destination}", Kennedy',
                    ranges[i % len(ranges)],
                    mean,
                    mean - 100,
                    mean + 250,
                ]
            )
        writer.writerow(["x", "bad", 1, "row", ranges[0], "oops", "", ""])
    return path


# --- the daemon process ----------------------------------------------------------------------
def running_executions(engine: Any) -> int:
    """Executions this engine runs or has queued (RUNNING in the database: only the owner runs
    executions)."""
    store = engine.store
    return len(store.list_executions(status="RUNNING")) if store is not None else 0


def serve_engine(
    home: LakeHome,
    *,
    role: str,
    idle_timeout_s: float,
    parallel: int,
    time_scale: float,
    stop: threading.Event,
    on_ready: Callable[[Any, Any], None] | None = None,
    on_stopping: Callable[[], None] | None = None,
    warm: bool = True,
    lock: Any = None,
) -> int:
    """Own and serve the engine of `home` until `stop` is set, `lake stop` asks, or (with an
    idle timeout) nothing happened for that long. 1 when another process owns the home.
    `lock`: the engine lock, when the caller holds it already. `on_ready(engine, server)` once
    it serves; `on_stopping()` when it stops, before it stops serving."""
    from lake.runtime.service import owning, try_lock

    lock = lock or try_lock(home)
    if lock is None:
        log.info("another process owns the engine of %s; leaving", home.root)
        return 1
    servers: list[Any] = []
    engines: list[Any] = []
    stopping = {"now": False, "by": ""}

    def on_shutdown(now: bool) -> dict[str, Any]:
        running = running_executions(engines[0]) if engines else 0
        stopping.update(now=now, by="lake stop")
        log.info(
            "lake stop: stopping (%d execution(s) running or queued; %s)",
            running,
            "interrupted now" if now else "running ones finish first",
        )
        if now and engines:
            engines[0].interrupt()
        stop.set()
        return {"pid": os.getpid(), "running": running, "now": now}

    with owning(
        home,
        lock,
        role=role,
        on_shutdown=on_shutdown,
        on_server=servers.append,
        parallel=parallel,
        time_scale=time_scale,
    ) as engine:
        engines.append(engine)
        server = servers[0]
        log.info("serving the engine of %s on %s (pid %d, %s)", home.root, home.socket_path,
                 os.getpid(), describe_idle(idle_timeout_s))  # fmt: skip

        def quiet() -> bool:
            return not server.busy() and running_executions(engine) == 0

        warmer = None
        if warm:
            warmer = threading.Thread(
                target=warm_up, args=(engine, quiet, stop), name="warm-up", daemon=True
            )
            warmer.start()
        if on_ready is not None:
            on_ready(engine, server)
        idle_since = time.monotonic()
        while not stop.wait(0.5):
            if not quiet() or (warmer is not None and warmer.is_alive()):
                idle_since = time.monotonic()
                continue
            idle = min(time.monotonic() - idle_since, server.idle_for())
            if idle_timeout_s > 0 and idle >= idle_timeout_s:
                log.info("idle for %s: stopping", describe_duration(idle_timeout_s))
                break
        stop.set()
        if on_stopping is not None:
            on_stopping()
        server.close()  # no new requests; requests under way and running executions finish
        waiting = running_executions(engine)
        if waiting:
            log.info("waiting for %d execution(s) to finish", waiting)
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    keep_private()
    parser = argparse.ArgumentParser(prog="python -m lake.runtime.daemon", description=__doc__)
    parser.add_argument("--home", required=True)
    parser.add_argument("--idle-timeout", type=parse_duration, default=DEFAULT_IDLE_TIMEOUT_S)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)  # engine.log (the spawner redirects it)
    formatter = logging.Formatter("%(asctime)s UTC engine[%(process)d] %(message)s")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    log.info("starting: %s", " ".join(sys.argv[1:] if argv is None else argv))
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        return serve_engine(
            LakeHome.at(args.home),
            role="daemon",
            idle_timeout_s=args.idle_timeout,
            parallel=args.parallel,
            time_scale=args.time_scale,
            stop=stop,
            warm=not (args.no_warm_up or os.environ.get(NO_WARM_UP_ENV)),
        )
    except Exception:
        log.exception("the engine stopped on an error")
        return 1


if __name__ == "__main__":
    sys.exit(main())
