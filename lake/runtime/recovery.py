"""Closing what a dead `lake` process left running: its executions, their Map Runs and the Map
Runs' child executions end ABORTED with `Lake.Interrupted`, an ExecutionAborted event appended
so that history and redrive stay coherent. No alert: nobody aborted them. The engine's owner
runs this when it opens (so no one else runs them) and when it closes (what was queued and never
began)."""

from __future__ import annotations

import datetime as dt

from lake.runtime.history_db import ExecutionRecord, ExecutionStore

# An execution left RUNNING by a process that is gone (killed, crashed, or stopped with Ctrl-C
# mid-run) is closed with this error; `lake watch` starts its file again.
INTERRUPTED = "Lake.Interrupted"
INTERRUPTED_CAUSE = (
    "The lake process running this execution stopped before it finished. `lake watch` starts "
    "the file again when it starts; or run `lake redrive {name}`."
)


def recover_interrupted(store: ExecutionStore, state_machine_arn: str) -> list[ExecutionRecord]:
    """Close the executions of `state_machine_arn` left RUNNING, with their Map Runs and those
    Map Runs' running children; return the executions closed."""
    orphans = store.list_executions(status="RUNNING", state_machine_arn=state_machine_arn)
    now = dt.datetime.now(dt.UTC)
    for record in orphans:
        close_interrupted(store, record, now)
        for map_run in store.map_runs(execution_arn=record.arn, status="RUNNING"):
            for child in store.list_executions(status="RUNNING", map_run_arn=map_run.map_run_arn):
                close_interrupted(store, child, now)
            counts = map_run.execution_counts
            counts["aborted"] += counts["running"] + counts["pending"]
            counts["running"] = counts["pending"] = 0
            map_run.status, map_run.stop_date = "ABORTED", now.timestamp()
            store.save_map_run(map_run)
    return orphans


def close_interrupted(store: ExecutionStore, record: ExecutionRecord, now: dt.datetime) -> None:
    """End one execution ABORTED with `Lake.Interrupted`, its history closed with an event."""
    events = store.events(record.arn)
    last_id = events[-1]["id"] if events else 0
    cause = INTERRUPTED_CAUSE.format(name=record.name)
    store.add_event(
        record.arn,
        {
            "timestamp": now.isoformat(),
            "type": "ExecutionAborted",
            "id": last_id + 1,
            "previousEventId": last_id,
            "executionAbortedEventDetails": {"error": INTERRUPTED, "cause": cause},
        },
    )
    store.update_execution(
        record.arn, status="ABORTED", error=INTERRUPTED, cause=cause, stop_date=now.timestamp()
    )
