"""What happened to each state of an execution, read from its AWS-style history events: when it
was entered and left, its attempts and failures, its output. Used by the progress display, the
summary, `lake describe` and the graph. Which state failed is `functions.story`'s reading, the
one the alert e-mail uses too."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from functions import story

# What happened to a state, as the console's graph view colours it.
SUCCEEDED = "succeeded"
FAILED = "failed"
RUNNING = "running"
CAUGHT = "caught"  # failed at least once, then retried to success or caught
NOT_REACHED = "not reached"

_FAILURE_TYPES = ("TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed")
_EXECUTION_END = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


def event_time(event: dict[str, Any]) -> dt.datetime:
    """An event's timestamp as an aware UTC datetime (accepts epoch s/ms, ISO text, datetime)."""
    value = event.get("timestamp")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, dt.UTC)
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def failure_details(event: dict[str, Any]) -> dict[str, Any]:
    """The `...EventDetails` object of a failure event ({} when there is none)."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict) and "error" in value:
            return value
    return {}


@dataclass
class StateRun:
    """One state's story in an execution (the latest entry of it, counting all attempts)."""

    name: str
    status: str = NOT_REACHED
    entered: dt.datetime | None = None
    exited: dt.datetime | None = None
    attempts: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    output: Any = None

    @property
    def seconds(self) -> float | None:
        if self.entered is None:
            return None
        end = self.exited or dt.datetime.now(dt.UTC)
        return (end - self.entered).total_seconds()

    @property
    def last_error(self) -> dict[str, Any] | None:
        return self.failures[-1] if self.failures else None


@dataclass
class Timeline:
    """All states (in definition order) and how the execution ended, if it did."""

    states: dict[str, StateRun]
    status: str = "RUNNING"
    error: str | None = None
    cause: str | None = None
    redriven: int = 0

    @property
    def failed_state(self) -> StateRun | None:
        failed = [s for s in self.states.values() if s.status == FAILED]
        return failed[-1] if failed else None

    @property
    def current_state(self) -> StateRun | None:
        running = [s for s in self.states.values() if s.status == RUNNING]
        return running[-1] if running else None


def read_timeline(events: list[dict[str, Any]], state_names: list[str]) -> Timeline:
    """Fold history events into per-state runs (the top-level states; Map iterations' and
    Parallel branches' own states are inside their state). A state entered and not exited is
    RUNNING while the execution runs; once it has ended, the state it failed in is FAILED."""
    states = {name: StateRun(name) for name in state_names}
    timeline = Timeline(states)
    current: StateRun | None = None
    for depth, event in story.with_nesting_depth(events):
        kind = event.get("type", "")
        if depth and kind not in story.NESTED_START:
            continue
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            current = states.setdefault(name, StateRun(name))
            # A redrive enters the failed state again: its story starts over.
            current.status, current.entered, current.exited = RUNNING, event_time(event), None
            current.attempts, current.failures = 0, []
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            run = states.setdefault(name, StateRun(name))
            run.exited = event_time(event)
            run.status = CAUGHT if run.failures else SUCCEEDED
            run.output = _maybe_json(event["stateExitedEventDetails"].get("output"))
            current = None
        elif kind == "TaskScheduled" and current is not None:
            current.attempts += 1
        elif kind in _FAILURE_TYPES and current is not None:
            current.failures.append(failure_details(event))
        elif kind in _EXECUTION_END:
            timeline.status = _EXECUTION_END[kind]
            details = failure_details(event)
            timeline.error, timeline.cause = details.get("error"), details.get("cause")
            failed = story.failed_state(events) if timeline.status != "SUCCEEDED" else None
            if failed is not None:
                run = states.setdefault(failed, StateRun(failed))
                run.status, run.exited = FAILED, event_time(event)
        elif kind == "ExecutionRedriven":
            timeline.status, timeline.error, timeline.cause = "RUNNING", None, None
            timeline.redriven += 1
    return timeline


def _maybe_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
