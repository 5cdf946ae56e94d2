"""The background engine of a lake home: warm by default.

The first `lake` command that needs the engine (upload, query, rerun, redrive, demo) and finds
no one serving the home starts this as a detached process (`python -m lake.runtime.daemon`),
says so in one line, and is then its first client; every later command, from any shell, is
served warm by it. It:

- owns the engine (the home's lock) and serves it on the home's socket (`lake.runtime.service`);
- warms up while nobody waits: the SparkSession at once, then the catalog (a first Glue run
  does not wait for it: the job does not use it), then, when no request and no execution has
  come for a moment, a few runs of the real Glue job on a small export in a scratch folder
  (cancelled as soon as work comes) and a query, so that the next upload finds the job's code
  compiled (the JVM's JIT too);
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
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from lake.home import LakeHome, keep_private
from lake.runtime.daemon_options import (
    DEFAULT_IDLE_TIMEOUT_S,
    describe_duration,
    describe_idle,
    parse_duration,
)
from lake.runtime.engine_lock import try_lock
from lake.runtime.service import owning
from lake.runtime.warm_up import warm_up

NO_WARM_UP_ENV = "LAKE_NO_WARM_UP"  # tests: serve without starting Spark until a request does

log = logging.getLogger("lake.engine")


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
