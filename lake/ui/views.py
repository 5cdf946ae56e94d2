"""Tables and JSON for the CLI's read-only commands: executions, describe (with an execution's
Map Runs and the executions it started), history, alerts, query results.

Every cell is a rich `Text` (`cell`), never a str: rich reads a str cell as markup, and keys,
file names, errors, subjects and query values are user text (a key holding `[/]` raised a
MarkupError; `[link=...]` made a hyperlink)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
from typing import Any

from rich.box import SIMPLE_HEAD
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from functions.story import readable_cause
from lake.runtime import ExecutionRecord, MapRunRecord, QueryOutcome
from lake.ui.timeline import CAUGHT, FAILED, SUCCEEDED, event_time, failure_details

STATUS_STYLE = {
    "SUCCEEDED": "green",
    "FAILED": "red",
    "TIMED_OUT": "red",
    "ABORTED": "yellow",
    "RUNNING": "blue",
}


def cell(value: Any, style: str = "") -> Text:
    """User text as a table cell: printed as it is, never read as markup."""
    return value if isinstance(value, Text) else Text("" if value is None else str(value), style)


def local_time(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(record: ExecutionRecord) -> str:
    end = record.stop_date or dt.datetime.now(dt.UTC).timestamp()
    seconds = end - record.start_date
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def executions_table(records: list[ExecutionRecord], title: str | None = None) -> Table:
    table = Table(
        title=title or f"{len(records)} execution(s), newest first",
        title_justify="left",
        box=SIMPLE_HEAD,
    )
    # Names are what the user types next (describe, redrive): never cut them.
    table.add_column("Name", no_wrap=True, min_width=max(len(r.name) for r in records))
    table.add_column("Status", no_wrap=True)
    table.add_column("File (raw key)", overflow="fold")
    table.add_column("Started", no_wrap=True)
    table.add_column("Took", no_wrap=True, justify="right")
    table.add_column("Redrives", justify="right")
    for r in records:
        table.add_row(
            cell(r.name),
            Text(r.status, STATUS_STYLE.get(r.status, "")),
            cell(r.source_key),
            cell(local_time(r.started)),
            cell(duration(r)),
            cell(r.redrive_count or ""),
        )
    return table


def describe_panel(
    record: ExecutionRecord, started_by: ExecutionRecord | None = None
) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("Name", record.name),
        ("ARN", record.arn),
        ("Status", Text(record.status, STATUS_STYLE.get(record.status, ""))),
        ("File", record.source_key or ""),
        ("Started", local_time(record.started)),
        ("Stopped", local_time(record.stopped)),
        ("Took", duration(record)),
        ("Redrives", str(record.redrive_count)),
    ]
    if record.rerun_of:
        rows.append(("Re-run of", record.rerun_of.rsplit(":", 1)[-1]))
    if started_by is not None:
        rows.append(("Started by", started_by.name))
    for label, value in rows:
        table.add_row(cell(label), cell(value))
    return table


MAP_RUN_COUNTS = ("succeeded", "failed", "timedOut", "aborted", "running", "pending", "total")


def map_runs_table(runs: list[MapRunRecord]) -> Table:
    """An execution's Map Runs with their item counts (DescribeMapRun's itemCounts)."""
    table = Table(title="Map Runs (items)", title_justify="left", box=SIMPLE_HEAD)
    table.add_column("Map state", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for count in MAP_RUN_COUNTS:
        table.add_column(count, justify="right")
    table.add_column("At once", justify="right")
    table.add_column("Redrives", justify="right")
    for run in runs:
        table.add_row(
            run.state_name,
            Text(run.status, STATUS_STYLE.get(run.status, "")),
            *(str(run.item_counts.get(count, 0)) for count in MAP_RUN_COUNTS),
            str(run.max_concurrency or "no limit"),
            str(run.redrive_count) if run.redrive_count else "",
        )
    return table


def event_note(event: dict[str, Any]) -> str:
    """A history event in a few words: its error and readable cause, or the task it called."""
    kind = event["type"]
    details = failure_details(event)
    if details:
        cause = readable_cause(details.get("cause"))  # the readable part of the JSON cause
        return f"{details.get('error')}: {cause[:120]}" if cause else str(details.get("error"))
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            if "resource" in value:
                return f"{value.get('resourceType', '')}:{value['resource']}"
            if kind in ("ExecutionRedriven", "MapRunRedriven"):
                return f"redrive #{value.get('redriveCount', '')}"
            if "mapRunArn" in value:
                return value["mapRunArn"].rsplit(":", 2)[-2]
    return ""


def state_of_event(event: dict[str, Any]) -> str:
    """The state a StateEntered/StateExited event names ("" for other events)."""
    for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
        if key in event:
            return event[key].get("name", "")
    return ""


def event_outcome(kind: str) -> str | None:
    """How a history event type reads: a failure, a success, a redrive or abort (CAUGHT, the
    graph's orange), or nothing in particular (None)."""
    if "Failed" in kind or "TimedOut" in kind:
        return FAILED
    if kind.endswith("Succeeded"):
        return SUCCEEDED
    if "Redriven" in kind or "Aborted" in kind:
        return CAUGHT
    return None


def history_table(events: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(events)} history event(s)", title_justify="left")
    for name in ("ID", "Type", "State", "Time", "+s", "Details"):
        table.add_column(name, justify="right" if name in ("ID", "+s") else "left")
    start = event_time(events[0]) if events else None
    current = ""
    for event in events:
        current = state_of_event(event) or current
        when = event_time(event)
        kind = event["type"]
        style = {SUCCEEDED: "green", FAILED: "red", CAUGHT: "yellow"}.get(event_outcome(kind), "")
        table.add_row(
            cell(event["id"]),
            Text(kind, style),
            cell(state_of_event(event) or (current if kind.startswith("Task") else "")),
            cell(local_time(when)),
            cell(f"{(when - start).total_seconds():.1f}" if start else ""),
            cell(event_note(event)),
        )
    return table


def alerts_table(alerts: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(alerts)} alert(s), newest first", title_justify="left")
    for name in ("Date", "Subject", "Delivery"):
        table.add_column(name)
    for alert in alerts:
        table.add_row(cell(alert["date"]), cell(alert["subject"]), cell(alert["delivery"]))
    return table


def plain(value: Any) -> Any:
    """A query value as JSON/CSV shows it."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def query_table(outcome: QueryOutcome) -> RenderableType:
    table = Table(show_lines=False)
    for name in outcome.columns:
        table.add_column(cell(name))
    for row in outcome.rows:
        table.add_row(*(cell("" if v is None else plain(v)) for v in row))
    note = Text(f"{len(outcome.rows):,} row(s)", "dim")
    return Group(table, note) if outcome.columns else Text("done", "dim")


def query_csv(outcome: QueryOutcome) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(outcome.columns)
    writer.writerows([[plain(v) for v in row] for row in outcome.rows])
    return buffer.getvalue()


def query_json(outcome: QueryOutcome) -> str:
    return json.dumps(
        [dict(zip(outcome.columns, (plain(v) for v in row), strict=True)) for row in outcome.rows],
        ensure_ascii=False,
        indent=2,
    )
