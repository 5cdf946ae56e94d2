"""Execution history events, shaped exactly as GetExecutionHistory returns them.

Each event is a dict: ``timestamp`` (ISO 8601), ``type``, ``id`` (1, 2, ...), ``previousEventId``
and one ``<type>EventDetails`` object whose fields follow the Step Functions API reference
(``stateEnteredEventDetails``, ``taskScheduledEventDetails``, ...). Inputs, outputs and task
parameters are JSON *strings* there, as in the API.

``previousEventId`` follows the thread of execution, as AWS records it inside Parallel branches
and Map iterations (executions recorded against AWS, e.g. LocalStack's test_base_scenarios
snapshots): a branch's or iteration's event names the branch's own previous event (its first
names the ParallelStateStarted / MapStateStarted), so concurrent branches' events, interleaved in
id order, can be told apart; that is what lets a redrive tell which branches and iterations
finished. The state's own next event (ParallelStateSucceeded, ...) names the state's previous
one: AWS names a branch's last event there, which would splice the state's thread into one
branch's (a known difference, lake/asl/README.md).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The details member of each event type that carries one.
_DETAILS = {
    "ExecutionStarted": "executionStartedEventDetails",
    "ExecutionSucceeded": "executionSucceededEventDetails",
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "ExecutionRedriven": "executionRedrivenEventDetails",
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskStarted": "taskStartedEventDetails",
    "TaskSubmitted": "taskSubmittedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "MapStateStarted": "mapStateStartedEventDetails",
    "MapIterationStarted": "mapIterationStartedEventDetails",
    "MapIterationSucceeded": "mapIterationSucceededEventDetails",
    "MapIterationFailed": "mapIterationFailedEventDetails",
    "MapIterationAborted": "mapIterationAbortedEventDetails",
    "MapRunStarted": "mapRunStartedEventDetails",
    "MapRunFailed": "mapRunFailedEventDetails",
    "MapRunRedriven": "mapRunRedrivenEventDetails",
}

# Event type prefix of each state type: "TaskStateEntered", "ChoiceStateExited", ...
STATE_EVENT_PREFIX = {
    "Task": "Task",
    "Pass": "Pass",
    "Choice": "Choice",
    "Wait": "Wait",
    "Succeed": "Succeed",
    "Fail": "Fail",
    "Parallel": "Parallel",
    "Map": "Map",
}


def to_json(value: Any) -> str:
    """Compact JSON text, as Step Functions records inputs and outputs."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC (a naive datetime is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def context_time(moment: datetime) -> str:
    """A time as the context object shows it, e.g. ``2019-03-26T20:14:13.192Z``."""
    moment = utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_event_time(value: Any) -> datetime:
    """An event's ``timestamp`` (ISO 8601 text or datetime) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return utc(value)
    return utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def details_key(event_type: str) -> str | None:
    """The name of the details member an event of this type carries, if any."""
    if event_type in _DETAILS:
        return _DETAILS[event_type]
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return None


@dataclass
class _Log:
    """The events of one execution, shared by every thread of execution that records them."""

    events: list[dict]
    clock: Callable[[], datetime]
    on_event: Callable[[dict], None] | None
    lock: threading.Lock = field(default_factory=threading.Lock)


class History:
    """The growing list of an execution's events; appends are numbered and reported.

    Thread-safe: a task integration may report TaskSubmitted from its worker thread. ``branch()``
    gives a Parallel branch or Map iteration its own thread of events (its ``previousEventId``
    chain) in the same list.
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        on_event: Callable[[dict], None] | None = None,
        previous: list[dict] | None = None,
    ) -> None:
        self._log = _Log(list(previous or []), clock, on_event)
        self._cursor = self._log.events[-1]["id"] if self._log.events else 0  # thread's latest

    @property
    def events(self) -> list[dict]:
        return self._log.events

    def branch(self) -> History:
        """A thread of events that follows this one's latest event."""
        with self._log.lock:
            return copy.copy(self)

    def add(self, event_type: str, details: dict | None = None) -> dict:
        """Append an event of ``event_type`` with ``details`` and report it; return it."""
        log = self._log
        with log.lock:
            last_id = log.events[-1]["id"] if log.events else 0
            event: dict[str, Any] = {
                "timestamp": utc(log.clock()).isoformat(),
                "type": event_type,
                "id": last_id + 1,
                "previousEventId": self._cursor,
            }
            key = details_key(event_type)
            if key is not None and details is not None:
                event[key] = details
            log.events.append(event)
            self._cursor = event["id"]
            if log.on_event is not None:
                log.on_event(event)
            return event

    def state_entered(self, state_type: str, name: str, state_input: Any) -> dict:
        """``<Type>StateEntered`` with the state's raw input."""
        return self.add(
            f"{STATE_EVENT_PREFIX[state_type]}StateEntered",
            {"name": name, "input": to_json(state_input), "inputDetails": {"truncated": False}},
        )

    def state_exited(self, state_type: str, name: str, output: Any) -> dict:
        """``<Type>StateExited`` with the state's output."""
        return self.add(
            f"{STATE_EVENT_PREFIX[state_type]}StateExited",
            {"name": name, "output": to_json(output), "outputDetails": {"truncated": False}},
        )


def error_details(error: str | None, cause: str | None) -> dict:
    """``{"error": ..., "cause": ...}`` without the members that have no value."""
    details = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details
