"""The `lake` command line: the local runtime of movement-lake.

Every command takes `--home DIR` (else $LAKE_HOME, else ./.lake). Commands that print data take
`--json`. Exit status: 0 success, 1 a failed execution or refused request, 2 bad use. Errors a
user can fix are one sentence on stderr, never a traceback. Every command works through
`lake.runtime.Lake`, the one face of the runtime.

Warm by default: the first command that needs the engine starts a background engine for the
home and says so in one line; later commands, from any shell, are served warm by it until it
has been idle `--idle-timeout` (LAKE_IDLE_TIMEOUT, default 15 min) or `lake stop` stops it.
`--no-daemon` (LAKE_NO_DAEMON=1) runs the engine in the command itself, for its own duration.

User text (keys, file names, messages, values) is never read as rich markup: it is printed as
`Text` or escaped, so a key holding `[/]` or `[link=...]` prints as itself."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from rich.text import Text

from contract import layout
from lake.home import LakeHome, NotInBucket, keep_private
from lake.runtime import (
    EngineError,
    ExecutionNotFound,
    Lake,
    NotRedrivable,
    RemoteError,
    daemon_wanted,
    describe_idle,
    idle_timeout_from_env,
    parse_duration,
)
from lake.ui import backfill_command, demo, generate, task_token_commands, terminal
from lake.ui.graph import render_svg, state_order
from lake.ui.progress import follow_and_report
from lake.ui.report import failure_advice, state_table, story_of, success_summary, summary_json
from lake.ui.timeline import read_timeline
from lake.ui.views import (
    alerts_table,
    describe_panel,
    executions_table,
    history_table,
    map_runs_table,
    query_csv,
    query_json,
    query_table,
)

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
DEFAULT_PORT = 8750  # `lake serve`'s console and Step Functions API


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


class UsageError(Exception):
    """The command was used wrongly; the message says how to use it."""


class Refused(Exception):
    """The request was understood and refused (exit status 1)."""


def open_lake(args: argparse.Namespace, parallel: int = 1) -> Lake:
    """The lake home of a command. LAKE_TIME_SCALE shrinks Retry waits (tests). A command that
    needs the engine and finds none starts the background engine (unless opted out)."""
    home = LakeHome.at(getattr(args, "home", None))
    try:
        idle = idle_timeout_from_env(getattr(args, "idle_timeout", None))
    except ValueError as e:
        raise UsageError(f"LAKE_IDLE_TIMEOUT: {e}") from e

    def starting() -> None:
        terminal.stderr().print(
            Text(
                f"starting a warm engine for this lake home in the background, for the next "
                f"commands too ({describe_idle(idle)}; `lake stop` stops it; log: "
                f"{home.engine_log})",
                "dim",
            ),
            soft_wrap=True,  # one line, however long
        )

    return Lake(
        home,
        parallel=parallel,
        time_scale=float(os.environ.get("LAKE_TIME_SCALE", "1")),
        daemon=daemon_wanted(getattr(args, "no_daemon", False)),
        idle_timeout_s=idle,
        on_engine_starting=starting,
    )


def announce_engine(lake: Lake) -> None:
    """Take the engine, saying so when this command runs it itself (Spark takes a while); a
    background engine this starts announces itself (see `open_lake`)."""
    if not lake.connect():
        terminal.stderr().print(
            Text(
                "--no-daemon: this command runs the engine itself (starting Spark takes a "
                "while); without it, a background engine stays warm for the next command",
                "dim",
            )
        )


def follow(lake: Lake, name: str, as_json: bool = False, since_id: int = 0) -> int:
    """Follow an execution to its end. Ctrl-C stops following; an execution that another
    process's engine runs goes on there (one this command runs itself stops at its next state,
    interrupted)."""
    try:
        return follow_and_report(lake, name, as_json, since_id=since_id)
    except KeyboardInterrupt:
        owner = lake.engine_owner() if lake.connect() else None
        if owner is None:
            raise
        terminal.stderr().print(
            Text(
                f"stopped following; execution {name} goes on in the engine (pid {owner.pid}): "
                f"`lake describe {name}` shows it, `lake stop --now` interrupts it"
            ),
            soft_wrap=True,
        )
        return 130


# --- upload and watch ------------------------------------------------------------------------
def upload_key(source: Path, key: str | None, city: str | None) -> str:
    if key and city:
        raise UsageError("give either --key or --city, not both")
    if key:
        return key.lstrip("/")
    if not city:
        raise UsageError(
            f"say which city {source.name} is about: --city CITY puts it at "
            f"travel_times/CITY/{source.name} (or give the whole --key)"
        )
    return f"{layout.RAW_PREFIX}{city}/{source.name}"


def upload(lake: Lake, source: Path, key: str, as_json: bool = False) -> int:
    """Put a file into the raw bucket, let its event start the workflow, follow it."""
    if not source.is_file():
        raise UsageError(f"{source} is not a file")
    try:
        lake.check_upload(key)
    except ValueError as e:
        raise UsageError(str(e)) from e
    announce_engine(lake)
    name = lake.upload(source, key)
    terminal.stderr().print(
        Text(f"uploaded {source} to s3://{lake.home.settings.raw_bucket}/{key}")
    )
    return follow(lake, name, as_json)


def _cmd_upload(args: argparse.Namespace) -> int:
    key = upload_key(args.file, args.key, args.city)
    with open_lake(args) as lake:
        return upload(lake, args.file, key, args.json)


def _cmd_watch(args: argparse.Namespace) -> int:
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    err = terminal.stderr()
    stop = threading.Event()
    interrupts = 0
    with open_lake(args, parallel=args.parallel) as lake:

        def on_signal(signum: int, frame: Any) -> None:
            nonlocal interrupts
            interrupts += 1
            stop.set()
            if interrupts == 1:
                err.print("stopping: running executions finish first (Ctrl-C again to abort them)")
            else:
                lake.interrupt()

        def started() -> None:
            raw = lake.home.bucket_path(lake.home.settings.raw_bucket)
            err.print(
                Text(
                    f"watching {raw} ({args.parallel} at a time); drop files under "
                    f"{layout.RAW_PREFIX}<city>/ — Ctrl-C stops"
                )
            )

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            lake.watch(stop, err, on_start=started, warm=not os.environ.get("LAKE_NO_WARM_UP"))
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    err.print("stopped")
    return 0


# --- read-only views -------------------------------------------------------------------------
def _cmd_executions(args: argparse.Namespace) -> int:
    records = open_lake(args).executions(status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([r.as_json() for r in records], indent=2))
    elif not records:
        terminal.stdout().print(
            "no executions yet: `lake upload FILE --city CITY` or `lake demo` starts one"
        )
    else:
        terminal.stdout().print(executions_table(records))
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    lake = open_lake(args)
    record = lake.execution(args.id)
    definition = lake.definition_of(record)
    events = lake.history(record.arn)
    timeline = read_timeline(events, state_order(definition.states, definition.start_at))
    told = story_of(record, events) if record.finished and record.status != "SUCCEEDED" else None
    runs = lake.map_runs(record.arn)
    started = lake.started_executions(record.arn)
    parent = lake.started_by(record)
    if args.graph:
        svg = render_svg(
            definition.states,
            definition.start_at,
            timeline,
            title=f"{record.name} — {record.status}",
            subtitle=f"{record.state_machine_arn.rsplit(':', 1)[-1]} · {record.source_key or ''}",
            map_runs={run.state_name: run.item_counts for run in runs},
        )
        args.graph.write_text(svg, encoding="utf-8")
    if args.json:
        summary = summary_json(record, timeline, told, lake.manifest(record), runs, started, parent)
        print(json.dumps(summary, indent=2))
        return 0
    out = terminal.stdout()
    out.print(describe_panel(record, parent))
    out.print()
    if record.status == "SUCCEEDED" and not runs:
        out.print(success_summary(lake.manifest(record), timeline))
    else:
        out.print(state_table(timeline, title="States"))
        if told is not None:
            out.print()
            for line in failure_advice(record, told):
                out.print(Text("  " + line))
    if runs:
        out.print()
        out.print(map_runs_table(runs))
    if started:
        out.print(executions_table(started, title=f"{len(started)} execution(s) it started"))
    if args.graph:
        out.print(Text(f"\ngraph written to {args.graph}"))
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    events = open_lake(args).history(args.id)
    if args.json:
        print(json.dumps(events, indent=2))
    else:
        terminal.stdout().print(history_table(events))
    return 0


def _cmd_alerts(args: argparse.Namespace) -> int:
    alerts = open_lake(args).alerts()[: args.limit]
    out = terminal.stdout()
    if args.json:
        print(json.dumps(alerts, indent=2, ensure_ascii=False))
    elif not alerts:
        out.print("no alerts: no execution has failed, timed out or been aborted")
    else:
        out.print(alerts_table(alerts))
        out.print(Text("\nnewest:", "bold"))
        out.print(Text(alerts[0]["body"]))
    return 0


# --- rerun, redrive, query -------------------------------------------------------------------
def _cmd_rerun(args: argparse.Namespace) -> int:
    with open_lake(args) as lake:
        lake.execution(args.id)  # a clear error before the engine starts
        announce_engine(lake)
        return follow(lake, lake.rerun(args.id), args.json)


def _cmd_redrive(args: argparse.Namespace) -> int:
    with open_lake(args) as lake:
        before = lake.execution(args.id)
        since = (lake.history(before.arn) or [{"id": 0}])[-1]["id"]
        announce_engine(lake)
        try:
            name = lake.redrive(args.id)
        except (NotRedrivable, RemoteError) as e:
            if isinstance(e, RemoteError) and e.kind != "NotRedrivable":
                raise
            raise Refused(f"cannot redrive {before.name}: {e}") from e
        return follow(lake, name, args.json, since_id=since)


def _cmd_query(args: argparse.Namespace) -> int:
    with open_lake(args) as lake:
        announce_engine(lake)
        outcome = lake.query(args.sql)
    if args.format == "json" or args.json:
        print(query_json(outcome))
    elif args.format == "csv":
        sys.stdout.write(query_csv(outcome))
    else:
        terminal.stdout().print(query_table(outcome))
    return 0


# --- the engine: stop, serve ----------------------------------------------------------------
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
    interrupts = 0
    with open_lake(args, parallel=args.parallel) as lake:

        def on_signal(signum: int, frame: Any) -> None:
            nonlocal interrupts
            interrupts += 1
            stop.set()
            if interrupts == 1:
                err.print(
                    Text("stopping: running executions finish first (Ctrl-C again aborts them)")
                )
            else:
                lake.interrupt()

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

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            lake.serve(stop, err, on_ready=ready, warm=not os.environ.get("LAKE_NO_WARM_UP"))
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    err.print("stopped")
    return 0


# --- the parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="the lake home (default: $LAKE_HOME, else ./.lake)",
    )
    parser = argparse.ArgumentParser(
        prog="lake",
        parents=[common],
        description="movement-lake on one machine: the same workflow, handler, Glue script and "
        "SQL as on AWS, with no AWS account.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate.add_command(commands)
    # The commands that need the engine: how they reach it.
    engine = argparse.ArgumentParser(add_help=False, parents=[common])
    engine.add_argument(
        "--no-daemon",
        action="store_true",
        default=argparse.SUPPRESS,
        help="run the engine in this command instead of a background engine left warm for the "
        "next (also LAKE_NO_DAEMON=1)",
    )
    engine.add_argument(
        "--idle-timeout",
        type=_duration,
        default=argparse.SUPPRESS,
        metavar="DURATION",
        help="a background engine this starts stops after this long idle, e.g. 900, 15m, 1h, "
        "0 for never (default $LAKE_IDLE_TIMEOUT, else 15m)",
    )

    def command(
        name: str, help: str, run: Any, json_flag: bool = True, uses_engine: bool = False
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help, parents=[engine if uses_engine else common]
        )
        if json_flag:
            sub.add_argument("--json", action="store_true", help="print JSON instead of tables")
        sub.set_defaults(run=run)
        return sub

    p = command(
        "upload",
        "put a file into the raw bucket and follow the workflow it starts",
        _cmd_upload,
        uses_engine=True,
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--key", help="object key (default travel_times/<city>/<file name>)")
    p.add_argument("--city", help="city slug, e.g. bogota or sao-paulo")

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

    p = command("executions", "list executions, newest first", _cmd_executions)
    p.add_argument("--status", choices=STATUSES, type=str.upper)
    p.add_argument("--limit", type=int, default=50)

    p = command("describe", "show one execution (name or ARN)", _cmd_describe)
    p.add_argument("id", metavar="ID")
    p.add_argument(
        "--graph",
        type=Path,
        metavar="FILE.svg",
        help="also draw the workflow coloured by what happened",
    )

    p = command("history", "list an execution's history events", _cmd_history)
    p.add_argument("id", metavar="ID")

    p = command("rerun", "start a new execution with the same input", _cmd_rerun, uses_engine=True)
    p.add_argument("id", metavar="ID")

    p = command(
        "redrive",
        "continue a failed execution at the state that did not finish",
        _cmd_redrive,
        uses_engine=True,
    )
    p.add_argument("id", metavar="ID")

    p = command("query", "run SQL against the travel_times table", _cmd_query, uses_engine=True)
    p.add_argument("sql", metavar="SQL")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = command("alerts", "list the alerts sent, newest first", _cmd_alerts)
    p.add_argument("--limit", type=int, default=20)

    backfill_command.add_command(
        command, open_lake=open_lake, announce_engine=announce_engine, usage_error=UsageError
    )
    task_token_commands.add_commands(
        command, open_lake=open_lake, usage_error=UsageError, refused=Refused
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

    demo.add_command(commands, engine, upload=upload, open_lake=open_lake)
    return parser


def _error(message: object) -> Text:
    """`error: <message>`, the message printed as it is (never read as markup)."""
    return Text.assemble(("error:", "red"), " ", str(message))


def main(argv: list[str] | None = None) -> int:
    keep_private()  # what a lake process creates in a lake home is its owner's only
    parser = build_parser()
    args = parser.parse_args(argv)
    err = terminal.stderr()
    try:
        return int(args.run(args) or 0)
    except UsageError as e:
        err.print(_error(e))
        return 2
    except (Refused, ExecutionNotFound, NotInBucket) as e:
        err.print(_error(e))
        return 1
    except RemoteError as e:
        err.print(_error(e))
        return 2 if e.kind in ("AnalysisException", "ParseException") else 1
    except EngineError as e:
        err.print(_error(e))
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as e:
        # Spark's AnalysisException (a bad query) is the user's to fix: one line, no trace.
        if type(e).__name__ in ("AnalysisException", "ParseException"):
            err.print(_error(str(e).strip().splitlines()[0]))
            return 2
        raise


__all__ = ["main", "upload"]


if __name__ == "__main__":
    sys.exit(main())
