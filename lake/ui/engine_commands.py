"""The `lake` commands that own or stop the engine: `watch` and `serve` run it in the foreground
(Ctrl-C stops them: running executions finish; Ctrl-C again interrupts them), `stop` asks a
background engine or `lake serve` to stop."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from rich.text import Text

from contract import layout
from lake.runtime import EngineError, Lake, RemoteError
from lake.ui import terminal
from lake.ui.command_support import Refused, UsageError, open_lake

DEFAULT_PORT = 8750  # `lake serve`'s console and Step Functions API


@contextlib.contextmanager
def stopped_by_signals(lake: Lake, stop: threading.Event) -> Iterator[None]:
    """While the block runs, Ctrl-C (or SIGTERM) sets `stop`: the foreground owner stops taking
    work and its running executions finish; a second one interrupts them too."""
    interrupts = 0

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal interrupts
        interrupts += 1
        stop.set()
        if interrupts == 1:
            terminal.stderr().print(
                Text("stopping: running executions finish first (Ctrl-C again aborts them)")
            )
        else:
            lake.interrupt()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _cmd_watch(args: argparse.Namespace) -> int:
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    err = terminal.stderr()
    stop = threading.Event()
    with open_lake(args, parallel=args.parallel) as lake:

        def started() -> None:
            raw = lake.home.bucket_path(lake.home.settings.raw_bucket)
            err.print(
                Text(
                    f"watching {raw} ({args.parallel} at a time); drop files under "
                    f"{layout.RAW_PREFIX}<city>/ — Ctrl-C stops"
                )
            )

        with stopped_by_signals(lake, stop):
            lake.watch(stop, err, on_start=started, warm=not os.environ.get("LAKE_NO_WARM_UP"))
    err.print("stopped")
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    """Stop the background engine (or `lake serve`) of the home."""
    lake = open_lake(args)
    err = terminal.stderr()
    owner = lake.engine_owner()
    if owner is None:
        err.print(Text(f"no engine is running for {lake.home.root}: nothing to stop"))
        return 0
    try:
        answer = lake.stop_engine(now=args.now, wait_s=0)
    except RemoteError as e:
        raise Refused(str(e)) from e
    if answer is None:
        err.print(Text("the engine stopped meanwhile"))
        return 0
    running = int(answer.get("running") or 0)
    what = "the background engine" if owner.role == "daemon" else f"`lake {owner.role}`"
    if running and args.now:
        detail = (
            f"{running} execution(s) interrupted: they end ABORTED (Lake.Interrupted); "
            "`lake redrive NAME` continues one"
        )
    elif running:
        detail = (
            f"waiting for {running} running or queued execution(s): running ones finish, "
            "queued ones that have not begun end interrupted (redrive them, or `lake watch` "
            "starts their files again); --now interrupts them all"
        )
    else:
        detail = "no execution was running"
    err.print(Text(f"stopping {what} (pid {owner.pid}): {detail}"), soft_wrap=True)
    lake.wait_engine_stopped()
    err.print(Text("stopped"))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    """`lake serve`: the warm engine, the watcher, the socket and (unless --no-console) the web
    console and Step Functions API, in the foreground until Ctrl-C."""
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    host = args.host
    token = args.token or os.environ.get("LAKE_SERVE_TOKEN") or None
    loopback = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
    if not args.no_console and not loopback and not token:
        raise UsageError(
            f"--host {host} serves beyond this machine: give --token TOKEN (or LAKE_SERVE_TOKEN) "
            "so that only those who have it get in"
        )
    err = terminal.stderr()
    stop = threading.Event()
    with open_lake(args, parallel=args.parallel) as lake:

        def ready(engine: Any, server: Any) -> Any:
            raw = lake.home.bucket_path(lake.home.settings.raw_bucket)
            lines = [
                f"lake serve: the engine of {lake.home.root} (pid {os.getpid()})",
                f"  other lake commands: served warm over {lake.home.socket_path}",
                f"  watching {raw}/{layout.RAW_PREFIX}<city>/ ({args.parallel} at a time)",
            ]
            web = None
            if args.no_console:
                lines.append("  console: off (--no-console)")
            else:
                try:
                    from lake.ui.web import start_web  # only when the console is wanted
                except ImportError as e:
                    raise EngineError(
                        f"the console cannot start ({e}); `lake serve --no-console` serves "
                        "everything else"
                    ) from e
                try:
                    web = start_web(lake, host=host, port=args.port, token=token)
                except OSError as e:
                    raise EngineError(
                        f"the console cannot listen on {host}:{args.port} ({e.strerror or e}); "
                        "choose another with --port"
                    ) from e
                lines.append(f"  console and Step Functions API: {web.url}")
                if token:
                    lines.append("  (requests need the token)")
            lines.append("Ctrl-C stops")
            for line in lines:
                err.print(Text(line))
            return web.close if web is not None else None

        with stopped_by_signals(lake, stop):
            lake.serve(stop, err, on_ready=ready, warm=not os.environ.get("LAKE_NO_WARM_UP"))
    err.print("stopped")
    return 0


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register `watch`, `stop` and `serve` with the CLI's `command(name, help, run)` helper."""
    p = command(
        "watch",
        "start an execution for every file that lands in the raw bucket",
        _cmd_watch,
        json_flag=False,
    )
    p.add_argument(
        "--parallel",
        type=int,
        default=2,
        metavar="N",
        help="executions at a time (default 2; Glue runs take turns)",
    )

    p = command(
        "stop",
        "stop the background engine (or `lake serve`): running executions finish first",
        _cmd_stop,
        json_flag=False,
    )
    p.add_argument(
        "--now",
        action="store_true",
        help="interrupt running executions instead (they end interrupted; redrive continues them)",
    )

    p = command(
        "serve",
        "run the engine in the foreground: serve the other lake commands warm, watch the raw "
        "bucket, and serve the web console and the Step Functions API",
        _cmd_serve,
        json_flag=False,
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"(default {DEFAULT_PORT})")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to serve the console on (default 127.0.0.1: this machine only; any other "
        "needs --token)",
    )
    p.add_argument("--token", help="the token console and API requests must carry")
    p.add_argument("--no-console", action="store_true", help="no web console or API")
    p.add_argument(
        "--parallel", type=int, default=2, metavar="N", help="executions at a time (default 2)"
    )
