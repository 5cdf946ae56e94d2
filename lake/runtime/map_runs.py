"""Map Runs in the execution database: the interpreter's `MapRunObserver`, played by the runtime.

A Distributed Map state runs a Map Run whose child executions each have their own history
(Step Functions guide, "Viewing a Distributed Map Run execution"). The recorder writes the Map
Run (DescribeMapRun's fields and counts) as it changes, and each child execution as an
execution of its own (`<parent state machine>/<label>`, linked to the Map Run and the parent),
with its history events as they happen; so `lake describe`, `lake history` and the console read
them like any execution, from any process. It also keeps the children a Map Run planned (its
items), so that for a redrive it gives the interpreter every child of the earlier attempt back
("Redriving Map Runs": only the unsuccessful and never-started ones run, with the original
items)."""

from __future__ import annotations

import datetime as dt
import json
import threading

from lake.asl import ChildExecution, MapRun, MapRunObserver
from lake.asl.history import parse_event_time, to_json
from lake.runtime.history_db import ExecutionRecord, ExecutionStore, MapRunRecord


def _timestamp(moment: dt.datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def map_run_record(run: MapRun) -> MapRunRecord:
    """The database's row of an interpreter's Map Run."""
    return MapRunRecord(
        map_run_arn=run.map_run_arn,
        execution_arn=run.execution_arn,
        state_name=run.state_name,
        state_machine_arn=run.state_machine_arn,
        status=run.status,
        start_date=run.start_date.timestamp(),
        stop_date=_timestamp(run.stop_date),
        max_concurrency=run.max_concurrency,
        tolerated_failure_percentage=run.tolerated_failure_percentage,
        tolerated_failure_count=run.tolerated_failure_count,
        item_counts=dict(run.item_counts),
        execution_counts=dict(run.execution_counts),
        redrive_count=run.redrive_count,
        error=run.error,
        cause=run.cause,
    )


class MapRunRecorder(MapRunObserver):
    """Records Map Runs and their child executions in an ExecutionStore (thread-safe: the
    store serializes its writes)."""

    def __init__(self, store: ExecutionStore) -> None:
        self.store = store
        self._lock = threading.Lock()  # one count update at a time, in order

    # --- the Map Run -------------------------------------------------------------------------
    def map_run_started(self, run: MapRun) -> None:
        self._save(run)

    def map_run_changed(self, run: MapRun) -> None:
        self._save(run)

    def map_run_ended(self, run: MapRun) -> None:
        self._save(run)

    def _save(self, run: MapRun) -> None:
        with self._lock:
            self.store.save_map_run(map_run_record(run))

    # --- its child executions ----------------------------------------------------------------
    def children_planned(self, run: MapRun, children: list[ChildExecution]) -> None:
        self.store.save_planned_children(
            run.map_run_arn, [(c.index, c.name, to_json(c.input)) for c in children]
        )

    def child_started(self, child: ChildExecution) -> None:
        now = dt.datetime.now(dt.UTC).timestamp()
        if self.store.find_execution(child.execution_arn) is not None:
            # A redrive of this child (same ARN, as RedriveExecution keeps it).
            self.store.update_execution(
                child.execution_arn, status="RUNNING", stop_date=None, redrive_date=now
            )
            return
        self.store.insert_execution(
            ExecutionRecord(
                arn=child.execution_arn,
                name=child.name,
                state_machine_arn=child.state_machine_arn,
                status="RUNNING",
                input=to_json(child.input),
                start_date=_timestamp(child.start_date) or now,
                parent_arn=child.parent_execution_arn,
                map_run_arn=child.map_run_arn,
                map_item_index=child.index,
            )
        )

    def child_event(self, child: ChildExecution, event: dict) -> None:
        self.store.add_event(child.execution_arn, event)
        if event["type"] == "ExecutionStarted":
            self.store.update_execution(
                child.execution_arn, start_date=parse_event_time(event["timestamp"]).timestamp()
            )

    def child_ended(self, child: ChildExecution) -> None:
        redrives = sum(1 for e in child.events if e["type"] == "ExecutionRedriven")
        self.store.update_execution(
            child.execution_arn,
            status=child.status,
            output=None if child.status != "SUCCEEDED" else to_json(child.output),
            error=child.error,
            cause=child.cause,
            stop_date=_timestamp(child.stop_date) or dt.datetime.now(dt.UTC).timestamp(),
            redrive_count=redrives,
        )

    def previous_children(self, map_run_arn: str) -> list[ChildExecution] | None:
        """Every child the Map Run planned, in item order: those that ran with their status,
        output and history, the others PENDING; None when the database holds no such Map Run."""
        run = self.store.find_map_run(map_run_arn)
        if run is None:
            return None
        ran = {r.map_item_index: r for r in self.store.list_executions(map_run_arn=map_run_arn)}
        base = run.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        children = []
        for index, name, text in self.store.planned_children(map_run_arn):
            record = ran.pop(index, None)
            child = ChildExecution(
                execution_arn=f"{base}:{name}",
                name=name,
                state_machine_arn=run.state_machine_arn,
                map_run_arn=map_run_arn,
                parent_execution_arn=run.execution_arn,
                index=index,
                input=json.loads(text),
                status="PENDING",
            )
            if record is not None:
                child.status, child.events = record.status, self.store.events(record.arn)
                child.output = json.loads(record.output) if record.output else None
                child.error, child.cause = record.error, record.cause
                child.start_date, child.stop_date = record.started, record.stopped
            children.append(child)
        return children
