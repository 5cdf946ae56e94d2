"""What an execution did, in words and tables a person reads: the summary after a success
(rows read, written and rejected by reason, partitions, time per state) and, after a failure,
where it stopped, why, and what to do next."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from lake.db import ExecutionRecord
from lake.timeline import CAUGHT, FAILED, NOT_REACHED, RUNNING, SUCCEEDED, Timeline, cause_message

OUTCOME_STYLE = {
    SUCCEEDED: "green",
    FAILED: "red",
    RUNNING: "blue",
    CAUGHT: "yellow",
    NOT_REACHED: "dim",
}


def output_of(record: ExecutionRecord) -> dict[str, Any]:
    try:
        data = json.loads(record.output or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def manifest_of(record: ExecutionRecord) -> dict[str, Any]:
    """The Glue job's manifest as the workflow read it (`$.job.manifest`)."""
    manifest = (output_of(record).get("job") or {}).get("manifest")
    return manifest if isinstance(manifest, dict) else {}


def _first(mapping: dict[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    return default


def counts(manifest: dict[str, Any]) -> dict[str, Any]:
    """Rows read/written/rejected, rejects by reason and partitions, from the manifest."""
    rows = manifest.get("rows") if isinstance(manifest.get("rows"), dict) else manifest
    by_reason = _first(rows, "rejected_by_reason", "rejects_by_reason", default={}) or {}
    partitions = manifest.get("partitions_written") or manifest.get("partitions") or []
    return {
        "rows_read": _first(rows, "read", "rows_read", "input_rows"),
        "rows_written": _first(rows, "written", "rows_written", "output_rows"),
        "rows_rejected": _first(rows, "rejected", "rows_rejected", "rejected_rows"),
        "rejected_by_reason": by_reason,
        "partitions": partitions,
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


def success_summary(record: ExecutionRecord, timeline: Timeline) -> RenderableType:
    c = counts(manifest_of(record))
    table = Table(
        title="What the lake took in", title_justify="left", show_edge=False, pad_edge=False
    )
    table.add_column("")
    table.add_column("Rows", justify="right")

    def fmt(n: Any) -> str:
        return f"{n:,}" if isinstance(n, int) else ("" if n is None else str(n))

    table.add_row("read from the file", fmt(c["rows_read"]))
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


CONTENT_ERRORS = ("TooManyRejects",)


def failure_advice(record: ExecutionRecord, timeline: Timeline, first_state: str) -> list[str]:
    """Where it stopped, why, and what to do — as sentences."""
    state = timeline.failed_state
    where = state.name if state else "the workflow"
    error = record.error or timeline.error or "unknown error"
    reason = cause_message(record.cause or timeline.cause) or error
    lines = [
        f"{record.status.replace('_', ' ').lower()} at {where}: {error}",
        f"why: {reason}",
    ]
    # The file itself is at fault when validation refused it, or when the job found too many
    # rows breaking the contract: running the same file again cannot help.
    content = reason.startswith(CONTENT_ERRORS) or (record.error or "") in CONTENT_ERRORS
    if record.status == "FAILED" and (content or (state is not None and state.name == first_state)):
        lines += [
            "what to do: fix the file and upload it again to the same key (the new version "
            "replaces it):",
            f"    lake upload FILE --key {record.source_key or 'KEY'}",
        ]
    else:
        lines += [
            f"what to do: fix the cause (the execution's log is logs/{record.name}.log in the "
            "lake home), then continue where it stopped:",
            f"    lake redrive {record.name}",
        ]
    return lines


def summary_json(record: ExecutionRecord, timeline: Timeline) -> dict[str, Any]:
    """The summary as data, for `--json`."""
    return {
        **record.as_json(),
        "failedState": timeline.failed_state.name if timeline.failed_state else None,
        "reason": cause_message(record.cause) if record.cause else None,
        "counts": counts(manifest_of(record)),
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
