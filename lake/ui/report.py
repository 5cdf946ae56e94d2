"""What an execution did, in words and tables a person reads: the summary after a success
(rows read, written and rejected by reason, partitions, time per state) and, after a failure,
where it stopped, why, and what to do next; for a backfill, its Map Run and the ingest
executions it started."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from contract.manifest import RowCounts
from functions import story
from lake.runtime import ExecutionRecord, MapRunRecord
from lake.ui.timeline import CAUGHT, FAILED, NOT_REACHED, RUNNING, SUCCEEDED, Timeline

OUTCOME_STYLE = {
    SUCCEEDED: "green",
    FAILED: "red",
    RUNNING: "blue",
    CAUGHT: "yellow",
    NOT_REACHED: "dim",
}


def counts(manifest: dict[str, Any]) -> dict[str, Any]:
    """Rows read, duplicated, without measurement, written and rejected (by reason), and the
    partitions, from the job's manifest."""
    rows = RowCounts.from_json(manifest.get("rows"))
    partitions = manifest.get("partitions_written")
    return {
        "format": manifest.get("source_format"),
        "rows_read": rows.read,
        "duplicate_rows": rows.duplicate_rows,
        "no_measurement": rows.no_measurement,
        "rows_written": rows.written,
        "rows_rejected": rows.rejected,
        "rejected_by_reason": dict(rows.rejected_by_reason),
        "partitions": partitions if isinstance(partitions, list) else [],
        "superseded_by": manifest.get("superseded_by"),
    }


def partition_label(partition: Any) -> str:
    if isinstance(partition, dict):
        return "/".join(
            f"{k}={partition[k]}" for k in ("city", "year", "month", "day") if k in partition
        )
    return str(partition)


def state_table(timeline: Timeline, title: str = "Time per state") -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("State")
    table.add_column("Outcome")
    table.add_column("Seconds", justify="right")
    table.add_column("Attempts", justify="right")
    for run in timeline.states.values():
        style = OUTCOME_STYLE.get(run.status, "")
        table.add_row(
            run.name,
            Text(run.status, style),
            f"{run.seconds:.1f}" if run.seconds is not None and run.entered else "",
            str(run.attempts) if run.attempts else "",
        )
    return table


def success_summary(manifest: dict[str, Any], timeline: Timeline) -> RenderableType:
    c = counts(manifest)
    if c["superseded_by"]:
        note = Text.assemble(
            ("Nothing published: ", "bold yellow"),
            "a newer upload of this file is in the lake (version ",
            (str(c["superseded_by"]), "bold"),
            "). The table still holds that newer version.",
        )
        return Group(note, Text(""), state_table(timeline))
    table = Table(
        title="What the lake took in", title_justify="left", show_edge=False, pad_edge=False
    )
    table.add_column("")
    table.add_column("Rows", justify="right")

    def fmt(n: Any) -> str:
        return f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n))

    table.add_row("read from the file", fmt(c["rows_read"]))
    if c["duplicate_rows"]:
        table.add_row("exact duplicates (written once)", fmt(c["duplicate_rows"]))
    if c["no_measurement"]:
        table.add_row("without a measurement (empty mean)", fmt(c["no_measurement"]))
    table.add_row("written to the table", fmt(c["rows_written"]))
    table.add_row("set aside (rejects)", fmt(c["rows_rejected"]))
    for reason, n in sorted(c["rejected_by_reason"].items()):
        if n:
            table.add_row(Text(f"  {reason}", "dim"), fmt(n))
    return Group(
        table, Text(""), partitions_table(c["partitions"]), Text(""), state_table(timeline)
    )


def partitions_table(partitions: list[Any], shown: int = 8) -> Table:
    """The partitions a run wrote (the first `shown`), with their rows when the manifest says."""
    table = Table(
        title=f"Partitions written: {len(partitions)}",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("Partition (start date)")
    table.add_column("Rows", justify="right")
    for p in partitions[:shown]:
        rows = p.get("rows") if isinstance(p, dict) else None
        table.add_row(partition_label(p), f"{rows:,}" if isinstance(rows, int) else "")
    if len(partitions) > shown:
        table.add_row(Text(f"… and {len(partitions) - shown} more", "dim"), "")
    return table


def story_of(record: ExecutionRecord, events: list[dict[str, Any]]) -> story.Story:
    """The execution's story, read as the alert e-mail reads it."""
    return story.read_story(events, record.status, record.error, record.cause)


def failure_advice(record: ExecutionRecord, told: story.Story) -> list[str]:
    """Where it stopped, why, and what to do, as sentences with the lake's own commands."""
    where = told.state or "the workflow"
    lines = [
        f"{record.status.replace('_', ' ').lower()} at {where}: {told.error or 'unknown error'}",
        f"why: {told.reason}",
    ]
    if told.next_step == story.FIX_FILE:
        return [
            *lines,
            "what to do: fix the file and upload it again to the same key (the new version "
            "replaces it):",
            f"    lake upload FILE --key {record.source_key or 'KEY'}",
        ]
    if told.next_step == story.START_AGAIN:
        return [
            *lines,
            "what to do: start it again with the same input:",
            f"    lake rerun {record.name}",
        ]
    return [
        *lines,
        f"what to do: fix the cause (the execution's log is logs/{record.name}.log in the "
        "lake home), then continue where it stopped:",
        f"    lake redrive {record.name}",
    ]


def summary_json(
    record: ExecutionRecord,
    timeline: Timeline,
    told: story.Story | None,
    manifest: dict[str, Any],
    map_runs: list[MapRunRecord] | None = None,
    started: list[ExecutionRecord] | None = None,
    started_by: ExecutionRecord | None = None,
) -> dict[str, Any]:
    """The summary as data, for `--json`: with the execution's Map Runs (DescribeMapRun's
    shape), the executions it started and the one that started it."""
    return {
        "mapRuns": [run.as_json() for run in map_runs or []],
        "startedExecutions": [
            {k: e.as_json()[k] for k in ("name", "executionArn", "status", "sourceKey", "error")}
            for e in started or []
        ],
        "startedBy": started_by.name if started_by else None,
        **record.as_json(),
        "failedState": told.state if told else None,
        "reason": told.reason if told and record.cause else None,
        "counts": counts(manifest),
        "states": [
            {
                "name": run.name,
                "outcome": run.status,
                "seconds": run.seconds if run.entered else None,
                "attempts": run.attempts,
            }
            for run in timeline.states.values()
        ],
    }


def backfill_outcome(
    record: ExecutionRecord, runs: list[MapRunRecord], started: list[ExecutionRecord]
) -> list[str]:
    """A backfill's result in sentences: files re-processed, failed, skipped, and what to do
    about the failed ones (each is a normal ingest execution: describe it, redrive it)."""
    items = runs[-1].item_counts if runs else {}
    failed = [e for e in started if e.status not in ("SUCCEEDED", "RUNNING")]
    succeeded = sum(1 for e in started if e.status == "SUCCEEDED")
    skipped = max(items.get("succeeded", 0) - succeeded, 0)
    lines = [
        f"{record.status.replace('_', ' ').lower()}: {items.get('total', 0)} object(s) under the "
        f"prefix, {succeeded} re-processed, {len(failed)} failed, {skipped} skipped "
        "(no export, or already in the lake in this version)",
    ]
    not_started = items.get("aborted", 0) + items.get("pending", 0)
    if not_started:
        lines.append(f"{not_started} object(s) were not processed: the run stopped early")
    if record.status == "FAILED" and record.error == "States.ExceedToleratedFailureThreshold":
        lines.append(
            "why: more files failed than the tolerated share (tolerated_failure_percentage); "
            "fix the cause, then continue it (only what did not succeed runs again):"
        )
        lines.append(f"    lake redrive {record.name}")
    elif record.status != "SUCCEEDED" and record.cause:
        lines.append(f"why: {story.readable_cause(record.cause)}")
    for execution in failed:
        lines.append(
            f"failed: {execution.source_key or execution.name} ({execution.error}): "
            f"lake describe {execution.name}"
        )
    if failed:
        lines.append(
            "each failed file is an ingest execution of its own: fix what its alert says, then "
            "`lake redrive NAME` (or upload the file again); "
            "`lake backfill --only-failed` re-processes every file not yet in the lake"
        )
    return lines
