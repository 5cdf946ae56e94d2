"""What a runtime may learn about Distributed Map runs and their child executions.

Step Functions guide, "Viewing a Distributed Map Run execution" and API reference
(DescribeMapRun, MapRunItemCounts, MapRunExecutionCounts): a Distributed Map state starts a Map
Run (its own ARN, ``arn:aws:states:<region>:<account>:mapRun:<stateMachineName>/<label>:<id>``)
whose child workflow executions each have their own history. The interpreter keeps none of this:
it tells an observer, and the runtime records what it needs (a database, the console, a CLI).

Subclass ``MapRunObserver`` and override what you need; every method is called from the thread
that made the change (children run in worker threads), so an implementation must be
thread-safe. The base class ignores everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

COUNT_NAMES = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "timedOut",
    "aborted",
    "total",
    "resultsWritten",
)


def _zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_NAMES, 0)


@dataclass
class MapRun:
    """A Map Run as DescribeMapRun shows it (the interpreter updates it in place).

    ``item_counts`` and ``execution_counts`` have DescribeMapRun's keys: pending, running,
    succeeded, failed, timedOut, aborted, total, resultsWritten (with ItemBatcher one child
    execution processes several items). ``status`` is RUNNING, SUCCEEDED, FAILED or ABORTED.
    """

    map_run_arn: str
    execution_arn: str
    state_name: str
    state_machine_arn: str  # the children's: <parent state machine ARN>/<label>
    max_concurrency: int
    tolerated_failure_percentage: float
    tolerated_failure_count: int
    start_date: datetime
    status: str = "RUNNING"
    stop_date: datetime | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    item_counts: dict[str, int] = field(default_factory=_zero_counts)
    execution_counts: dict[str, int] = field(default_factory=_zero_counts)

    def describe(self) -> dict[str, Any]:
        """The DescribeMapRun response fields."""
        described: dict[str, Any] = {
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": self.start_date,
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": float(self.tolerated_failure_percentage),
            "toleratedFailureCount": self.tolerated_failure_count,
            "itemCounts": dict(self.item_counts),
            "executionCounts": dict(self.execution_counts),
            "redriveCount": self.redrive_count,
        }
        if self.stop_date is not None:
            described["stopDate"] = self.stop_date
        return described


@dataclass
class ChildExecution:
    """One child workflow execution of a Map Run (ListExecutions with ``mapRunArn``)."""

    execution_arn: str
    name: str
    state_machine_arn: str
    map_run_arn: str
    parent_execution_arn: str
    index: int  # the position of its first item in the Map's items
    input: Any
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict] = field(default_factory=list)
    start_date: datetime | None = None
    stop_date: datetime | None = None


class MapRunObserver:
    """Receives Map Runs and child executions as they start, change and end (no-op here)."""

    def map_run_started(self, run: MapRun) -> None:
        """A Map Run began (its MapRunStarted event is being recorded)."""

    def map_run_changed(self, run: MapRun) -> None:
        """The counts of a Map Run changed (a child started or ended)."""

    def map_run_ended(self, run: MapRun) -> None:
        """A Map Run ended: ``run.status`` is SUCCEEDED, FAILED or ABORTED."""

    def children_planned(self, run: MapRun, children: list[ChildExecution]) -> None:
        """A Map Run read its items: ``children`` (all PENDING) are the child executions it
        will run, in item order. Keep them to give them back for a redrive."""

    def child_started(self, child: ChildExecution) -> None:
        """A child execution started (before its first event)."""

    def child_event(self, child: ChildExecution, event: dict) -> None:
        """A child execution recorded ``event`` (GetExecutionHistory's shape)."""

    def child_ended(self, child: ChildExecution) -> None:
        """A child execution ended; ``child.status`` and output or error/cause are set."""

    def previous_children(self, map_run_arn: str) -> list[ChildExecution] | None:
        """For a redrive: every child an earlier attempt of this Map Run planned, in item
        order, with its status (PENDING for one never started), output and events; None when
        unknown (then the redriven parent starts a new Map Run over every item)."""
        return None
