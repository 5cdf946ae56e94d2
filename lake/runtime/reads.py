"""A lake home as its execution database tells it: the state machines, their executions and
histories (whole or a page at a time), whether one can be redriven, what the Glue job reported,
the alerts sent, Map Runs and the executions an execution started. Reads come from the database
(SQLite in WAL mode) at any time, from any process, engine or none: `Lake` adds the requests
that go to the engine."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.asl import DEFAULT_ROLE_ARN, NotRedrivable, StateMachineDefinition
from lake.asl.redrive import plan_redrive
from lake.aws.sns import read_outbox
from lake.home import LakeHome
from lake.runtime.engine import load_workflow, workflow_files
from lake.runtime.errors import StateMachineNotFound
from lake.runtime.executions import find_execution
from lake.runtime.history_db import ExecutionRecord, ExecutionStore, MapRunRecord


@dataclass(frozen=True)
class StateMachine:
    """A state machine of the lake: its name, ARN, ASL file and loaded definition."""

    name: str
    arn: str
    definition_file: Path
    definition: StateMachineDefinition

    @property
    def definition_text(self) -> str:
        """The definition as deployed: the ASL JSON with its placeholders substituted."""
        return json.dumps(self.definition.raw, indent=2, ensure_ascii=False)

    @property
    def role_arn(self) -> str:
        """The role its executions run as (locally a fixed, account-less role)."""
        return DEFAULT_ROLE_ARN

    @property
    def created(self) -> dt.datetime:
        """When this version of the definition was made: its ASL file's modification time."""
        return dt.datetime.fromtimestamp(self.definition_file.stat().st_mtime, dt.UTC)


@dataclass(frozen=True)
class RedriveStatus:
    """Whether an execution can be redriven now (DescribeExecution's redriveStatus) and, when
    it cannot, AWS's reason."""

    redrivable: bool
    reason: str | None = None


class LakeReads:
    """What anyone may read of one lake home, without the engine."""

    def __init__(self, home: LakeHome) -> None:
        self.home = home
        self._store: ExecutionStore | None = None
        self._machines: dict[str, StateMachine] | None = None
        # The console serves requests on several threads: they open the store (and take the
        # engine) once, not once each.
        self._opening = threading.RLock()

    # --- the workflow and its executions (reads) --------------------------------------------
    def state_machines(self) -> list[StateMachine]:
        """The state machines of the lake (those the stack deploys), the ingest workflow first."""
        if self._machines is None:
            self._machines = {
                name: StateMachine(
                    name, self.home.state_machine_arn_of(name), path, load_workflow(self.home, path)
                )
                for name, path in workflow_files(self.home).items()
            }
        return list(self._machines.values())

    def state_machine(self, identifier: str | None = None) -> StateMachine:
        """A state machine by name or ARN (default: the ingest workflow)."""
        name = (identifier or self.home.settings.state_machine_name).rsplit(":", 1)[-1]
        machines = {machine.name: machine for machine in self.state_machines()}
        if name not in machines:
            raise StateMachineNotFound(
                f"no state machine {identifier!r} in this lake; its state machines are "
                f"{', '.join(machines)}"
            )
        return machines[name]

    @property
    def definition(self) -> StateMachineDefinition:
        """The ingest workflow's definition (the stack's ASL file)."""
        return self.state_machine().definition

    def definition_of(self, record: ExecutionRecord) -> StateMachineDefinition:
        """The definition an execution runs (a Map Run's child: its Map state's item
        processor, `<state machine>/<label>`)."""
        machine, _, label = record.state_machine_arn.rpartition(":")[2].partition("/")
        definition = self.state_machine(machine).definition
        if not label:
            return definition
        for name, state in definition.states.items():
            if state.get("Type") == "Map" and state.get("Label", name) == label:
                return StateMachineDefinition(
                    raw=state.get("ItemProcessor") or state.get("Iterator")
                )
        raise StateMachineNotFound(f"no Map state labelled {label!r} in {machine}")

    @property
    def store(self) -> ExecutionStore:
        with self._opening:
            if self._store is None:
                self.home.make_root()
                self._store = ExecutionStore(self.home.db_path)
            return self._store

    def executions(
        self, status: str | None = None, limit: int | None = None
    ) -> list[ExecutionRecord]:
        """Executions, newest first."""
        return self.store.list_executions(status=status, limit=limit)

    def execution(self, identifier: str) -> ExecutionRecord:
        """One execution, by name or ARN (ExecutionNotFound otherwise)."""
        return find_execution(self.store, identifier, self.home)

    def history(self, identifier: str, after_id: int = 0) -> list[dict[str, Any]]:
        """An execution's history events (after event `after_id`), oldest first."""
        return self.store.events(self.execution(identifier).arn, after_id=after_id)

    # --- pages of the lists (ListExecutions, GetExecutionHistory) ----------------------------
    def execution_page(
        self,
        *,
        state_machine: str | None = None,
        status: str | None = None,
        redriven: bool | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[ExecutionRecord], str | None]:
        """One page of executions, newest first: those of one state machine (name or ARN) and
        status when given, redriven or never redriven when `redriven` says, that come after the
        execution ARN `after` (the cursor a previous page returned). Returns the page and the
        cursor of the next one (None on the last page). A cursor names an execution, so the
        pages stay in step while new executions start."""
        arn = self.state_machine(state_machine).arn if state_machine else None
        records = self.store.list_executions(status=status, state_machine_arn=arn)
        if redriven is not None:
            records = [r for r in records if (r.redrive_count > 0) == redriven]
        if after is not None:
            position = next((i for i, r in enumerate(records) if r.arn == after), None)
            if position is None:
                raise ValueError(f"no execution {after!r} in this list to continue after")
            records = records[position + 1 :]
        page = records[: max(1, limit)]
        return page, (page[-1].arn if len(records) > len(page) else None)

    def history_page(
        self, identifier: str, *, reverse: bool = False, after_id: int = 0, limit: int = 100
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of an execution's history: oldest first from after event `after_id`, or
        with `reverse` newest first from before it (0: from the newest). Returns the events and
        the event id to continue from (None on the last page)."""
        events = self.history(identifier)
        if reverse:
            events = [e for e in reversed(events) if not after_id or e["id"] < after_id]
        else:
            events = [e for e in events if e["id"] > after_id]
        page = events[: max(1, limit)]
        return page, (page[-1]["id"] if len(events) > len(page) else None)

    def redrive_status(self, record: ExecutionRecord) -> RedriveStatus:
        """Whether RedriveExecution would take this execution now, by AWS's rules (ended badly,
        within the redrivable period, under the redrive and history limits)."""
        events = self.store.events(record.arn)
        try:
            plan_redrive(self.definition_of(record), events, dt.datetime.now(dt.UTC))
        except NotRedrivable as refusal:
            return RedriveStatus(False, str(refusal))
        return RedriveStatus(True)

    def manifest(self, record: ExecutionRecord) -> dict[str, Any]:
        """What the Glue job reported for the execution: the manifest it wrote in the curated
        bucket, found through the summary the workflow carried ({} when the execution did not
        get that far)."""
        try:
            output = json.loads(record.output or "{}")
        except ValueError:
            return {}
        job = (output.get("job") or {}) if isinstance(output, dict) else {}
        summary = job.get("summary")
        if not isinstance(summary, dict):  # an execution recorded before summaries
            return job.get("manifest") if isinstance(job.get("manifest"), dict) else {}
        try:
            path = self.home.object_path(self.home.settings.curated_bucket, summary["manifest"])
            return json.loads(path.read_text(encoding="utf-8"))
        except (KeyError, OSError, ValueError):
            return summary  # the counts, when the manifest itself is gone

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts sent (the outbox), newest first."""
        return read_outbox(self.home)

    # --- map runs and the executions an execution started (reads) ------------------------------
    def map_runs(self, identifier: str) -> list[MapRunRecord]:
        """The Map Runs of an execution's Distributed Map states, oldest first (DescribeMapRun's
        fields and counts)."""
        return self.store.map_runs(execution_arn=self.execution(identifier).arn)

    def map_run_children(self, map_run_arn: str) -> list[ExecutionRecord]:
        """A Map Run's child executions (ListExecutions with mapRunArn), newest first."""
        return self.store.list_executions(map_run_arn=map_run_arn)

    def started_executions(self, identifier: str) -> list[ExecutionRecord]:
        """The executions an execution started (`states:startExecution`), by its own tasks and
        by those of its Map Runs' child executions (a backfill's ingest executions), newest
        first."""
        record = self.execution(identifier)
        parents = [record.arn] + [
            child.arn
            for run in self.store.map_runs(execution_arn=record.arn)
            for child in self.store.list_executions(map_run_arn=run.map_run_arn)
        ]
        started = [e for arn in parents for e in self.store.list_executions(parent_arn=arn)]
        return sorted(started, key=lambda e: e.start_date, reverse=True)

    def started_by(self, record: ExecutionRecord) -> ExecutionRecord | None:
        """The execution that started this one (through a Map Run's child execution, the Map
        Run's parent), or None when an event or a person started it."""
        parent = self.store.find_execution(record.parent_arn) if record.parent_arn else None
        while parent is not None and parent.map_run_arn and parent.parent_arn:
            parent = self.store.find_execution(parent.parent_arn)
        return parent
