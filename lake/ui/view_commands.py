"""The read-only `lake` commands: `executions`, `describe` (with `--graph`), `history` and
`alerts`. They read the execution database and the outbox; none needs the engine."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from rich.text import Text

from lake.ui import terminal
from lake.ui.command_support import open_lake
from lake.ui.graph import execution_svg, state_order
from lake.ui.report import failure_advice, state_table, story_of, success_summary, summary_json
from lake.ui.timeline import read_timeline
from lake.ui.views import (
    alerts_table,
    describe_panel,
    executions_table,
    history_table,
    map_runs_table,
)

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


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
        svg = execution_svg(
            record,
            definition.states,
            definition.start_at,
            timeline,
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


def add_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Register the read-only commands with the CLI's `command(name, help, run)` helper."""
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

    p = command("alerts", "list the alerts sent, newest first", _cmd_alerts)
    p.add_argument("--limit", type=int, default=20)
