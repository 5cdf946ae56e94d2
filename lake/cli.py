"""The `lake` command line: the local runtime of movement-lake.

Every command takes `--home DIR` (else $LAKE_HOME, else ./.lake). Commands that print data take
`--json`. Exit status: 0 success, 1 a failed execution or refused request, 2 bad use. Errors a
user can fix are one sentence on stderr, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from contract import layout
from contract.events import object_created_rule_pattern
from lake import console, demo, generate
from lake.db import ExecutionRecord, ExecutionStore
from lake.engine import Engine, EngineError, ExecutionNotFound, load_workflow
from lake.events import object_created_event
from lake.graph import render_svg, state_order
from lake.home import LakeHome, NotInBucket
from lake.integrations.sns import read_outbox
from lake.patterns import matches
from lake.progress import follow
from lake.report import failure_advice, success_summary, summary_json
from lake.s3 import copy_file_into
from lake.service import RemoteError, engine_access, owning, try_lock
from lake.timeline import read_timeline
from lake.views import (
    alerts_table,
    describe_panel,
    executions_table,
    history_table,
    query_csv,
    query_json,
    query_table,
)

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class UsageError(Exception):
    """The command was used wrongly; the message says how to use it."""


# --- shared pieces -------------------------------------------------------------------------
def _home(args: argparse.Namespace) -> LakeHome:
    return LakeHome.at(getattr(args, "home", None))


def _out() -> Console:
    return console.stdout()


def _err() -> Console:
    return console.stderr()


def engine_options(parallel: int = 1) -> dict[str, Any]:
    """Engine options from the environment: LAKE_TIME_SCALE shrinks Retry waits (tests)."""
    return {"parallel": parallel, "time_scale": float(os.environ.get("LAKE_TIME_SCALE", "1"))}


def _states(home: LakeHome) -> list[str]:
    definition = load_workflow(home)
    return state_order(definition.states, definition.start_at)


def _store(home: LakeHome) -> ExecutionStore:
    home.root.mkdir(parents=True, exist_ok=True)
    return ExecutionStore(home.db_path)


def _find(home: LakeHome, identifier: str) -> ExecutionRecord:
    record = _store(home).find_execution(identifier)
    if record is None:
        raise ExecutionNotFound(
            f"no execution named {identifier!r} in {home.root}; `lake executions` lists them"
        )
    return record


def print_outcome(home: LakeHome, record: ExecutionRecord, as_json: bool) -> int:
    """The summary after an execution ends; exit status 0 only when it succeeded."""
    states = _states(home)
    events = _store(home).events(record.arn)
    timeline = read_timeline(events, states)
    if as_json:
        print(json.dumps(summary_json(record, timeline), indent=2))
    else:
        out = _out()
        out.print()
        if record.status == "SUCCEEDED":
            out.print(Text(f"✔ {record.source_key or record.name} is in the lake.", "bold green"))
            out.print(success_summary(record, timeline))
        else:
            out.print(Text(f"✖ execution {record.name} {record.status}", "bold red"))
            for line in failure_advice(record, timeline, states[0]):
                out.print("  " + line)
    return 0 if record.status == "SUCCEEDED" else 1


def follow_execution(home: LakeHome, name: str, since_id: int = 0) -> ExecutionRecord:
    err = _err()
    err.print(Text(f"execution {name}", "bold"))
    return follow(_store(home), home.execution_arn(name), _states(home), err, since_id=since_id)


# --- upload ----------------------------------------------------------------------------------
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


def upload(home: LakeHome, source: Path, key: str, as_json: bool = False) -> int:
    """Put a file into the raw bucket, let its event start the workflow, follow it."""
    if not source.is_file():
        raise UsageError(f"{source} is not a file")
    raw = home.settings.raw_bucket
    probe = object_created_event(raw, key, source.stat().st_size, "0")
    if not matches(object_created_rule_pattern(raw), probe):
        raise UsageError(
            f"key {key!r} would not start the workflow: the rule takes only keys under "
            f"{layout.RAW_PREFIX} ending in .csv or .csv.gz ({layout.EXPECTED_LAYOUT})"
        )
    err = _err()
    with engine_access(home, **engine_options()) as engine:
        if not engine.remote:
            err.print(
                "[dim]no `lake watch` is running, so this command runs the workflow itself "
                "(starting Spark takes about a minute; a running `lake watch` keeps it warm)[/]"
            )
        copy_file_into(home, raw, key, source)
        err.print(f"uploaded {source} to s3://{raw}/{key}")
        name = engine.object_landed(raw, key)
        if name is None:  # the file vanished, or the rule changed under us
            raise EngineError(f"s3://{raw}/{key} did not start an execution")
        record = follow_execution(home, name)
    return print_outcome(home, record, as_json)


def _cmd_upload(args: argparse.Namespace) -> int:
    key = upload_key(args.file, args.key, args.city)
    return upload(_home(args), args.file, key, args.json)


# --- watch -----------------------------------------------------------------------------------
def _cmd_watch(args: argparse.Namespace) -> int:
    from lake.watch import RawFolderWatcher

    home = _home(args)
    if args.parallel < 1:
        raise UsageError("--parallel must be at least 1")
    lock = try_lock(home)
    if lock is None:
        raise EngineError(
            f"another lake process owns {home.root} (see {home.lock_path}); "
            "stop it or wait for it, then start lake watch again"
        )
    err = _err()
    stop = threading.Event()
    interrupts = 0

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal interrupts
        interrupts += 1
        stop.set()
        if interrupts == 1:
            err.print("stopping: running executions finish first (Ctrl-C again to abort them)")
        else:
            engine.abort.set()

    with owning(home, lock, **engine_options(args.parallel)) as engine:
        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            watcher = RawFolderWatcher(engine, err)
            raw = home.bucket_path(home.settings.raw_bucket)
            err.print(
                f"watching {raw} ({args.parallel} at a time); drop files under "
                f"{layout.RAW_PREFIX}<city>/ — Ctrl-C stops"
            )
            watcher.run(stop)
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    err.print("stopped")
    return 0


# --- read-only views -------------------------------------------------------------------------
def _cmd_executions(args: argparse.Namespace) -> int:
    records = _store(_home(args)).list_executions(status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([r.as_json() for r in records], indent=2))
    elif not records:
        _out().print("no executions yet: `lake upload FILE --city CITY` or `lake demo` starts one")
    else:
        _out().print(executions_table(records))
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    home = _home(args)
    record = _find(home, args.id)
    definition = load_workflow(home)
    states = state_order(definition.states, definition.start_at)
    timeline = read_timeline(_store(home).events(record.arn), states)
    if args.graph:
        svg = render_svg(
            definition.states,
            definition.start_at,
            timeline,
            title=f"{record.name} — {record.status}",
            subtitle=f"{home.settings.state_machine_name} · {record.source_key or ''}",
        )
        args.graph.write_text(svg, encoding="utf-8")
    if args.json:
        print(json.dumps(summary_json(record, timeline), indent=2))
        return 0
    out = _out()
    out.print(describe_panel(record))
    out.print()
    if record.status == "SUCCEEDED":
        out.print(success_summary(record, timeline))
    else:
        from lake.report import state_table

        out.print(state_table(timeline, title="States"))
        if record.finished:
            out.print()
            for line in failure_advice(record, timeline, states[0]):
                out.print("  " + line)
    if args.graph:
        out.print(f"\ngraph written to {args.graph}")
    return 0


def _cmd_history(args: argparse.Namespace) -> int:
    home = _home(args)
    record = _find(home, args.id)
    events = _store(home).events(record.arn)
    if args.json:
        print(json.dumps(events, indent=2))
    else:
        _out().print(history_table(events))
    return 0


def _cmd_alerts(args: argparse.Namespace) -> int:
    alerts = read_outbox(_home(args))[: args.limit]
    if args.json:
        print(json.dumps(alerts, indent=2, ensure_ascii=False))
    elif not alerts:
        _out().print("no alerts: no execution has failed, timed out or been aborted")
    else:
        out = _out()
        out.print(alerts_table(alerts))
        out.print(Text("\nnewest:", "bold"))
        out.print(alerts[0]["body"])
    return 0


# --- rerun, redrive, query -------------------------------------------------------------------
def _cmd_rerun(args: argparse.Namespace) -> int:
    home = _home(args)
    _find(home, args.id)  # a clear error before the engine starts
    with engine_access(home, **engine_options()) as engine:
        name = engine.rerun(args.id)
        record = follow_execution(home, name)
    return print_outcome(home, record, args.json)


def _cmd_redrive(args: argparse.Namespace) -> int:
    from lake.asl import NotRedrivable

    home = _home(args)
    before = _find(home, args.id)
    since = (_store(home).events(before.arn) or [{"id": 0}])[-1]["id"]
    with engine_access(home, **engine_options()) as engine:
        try:
            name = engine.redrive(args.id)
        except NotRedrivable as e:
            raise Refused(f"cannot redrive {before.name}: {e.reason}") from e
        except RemoteError as e:
            if e.kind == "NotRedrivable":
                raise Refused(f"cannot redrive {before.name}: {e}") from e
            raise
        record = follow_execution(home, name, since_id=since)
    return print_outcome(home, record, args.json)


class Refused(Exception):
    """The request was understood and refused (exit status 1)."""


def _cmd_query(args: argparse.Namespace) -> int:
    home = _home(args)
    err = _err()
    with engine_access(home, **engine_options()) as engine:
        if not engine.remote:
            err.print("[dim]starting the query engine (Spark); `lake watch` keeps it warm[/]")
        outcome = engine.query(args.sql)
    if args.format == "json" or args.json:
        print(query_json(outcome))
    elif args.format == "csv":
        sys.stdout.write(query_csv(outcome))
    else:
        _out().print(query_table(outcome))
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

    def command(name: str, help: str, run: Any, json_flag: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common])
        if json_flag:
            sub.add_argument("--json", action="store_true", help="print JSON instead of tables")
        sub.set_defaults(run=run)
        return sub

    p = command(
        "upload", "put a file into the raw bucket and follow the workflow it starts", _cmd_upload
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

    p = command("rerun", "start a new execution with the same input", _cmd_rerun)
    p.add_argument("id", metavar="ID")

    p = command(
        "redrive", "continue a failed execution at the state that did not finish", _cmd_redrive
    )
    p.add_argument("id", metavar="ID")

    p = command("query", "run SQL against the travel_times table", _cmd_query)
    p.add_argument("sql", metavar="SQL")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = command("alerts", "list the alerts sent, newest first", _cmd_alerts)
    p.add_argument("--limit", type=int, default=20)

    demo.add_command(commands, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err = _err()
    try:
        return int(args.run(args) or 0)
    except UsageError as e:
        err.print(f"[red]error:[/] {e}")
        return 2
    except (Refused, ExecutionNotFound, NotInBucket) as e:
        err.print(f"[red]error:[/] {e}")
        return 1
    except RemoteError as e:
        err.print(f"[red]error:[/] {e}")
        return 2 if e.kind in ("AnalysisException", "ParseException") else 1
    except EngineError as e:
        err.print(f"[red]error:[/] {e}")
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as e:
        # Spark's AnalysisException (a bad query) is the user's to fix: one line, no trace.
        if type(e).__name__ in ("AnalysisException", "ParseException"):
            err.print(f"[red]error:[/] {str(e).strip().splitlines()[0]}")
            return 2
        raise


__all__ = ["Engine", "main", "upload"]


if __name__ == "__main__":
    sys.exit(main())
