"""RedriveExecution: may this execution be redriven, and where does it resume?

AWS: an execution that ended FAILED, TIMED_OUT or ABORTED, no more than 14 days ago, can be
redriven; it continues at the state that did not finish, with that state's original input,
keeps the execution's ARN, name, input and earlier events, and counts the redrive.

A Parallel or Map state that did not finish is entered again with its original input, and (API
reference, RedriveExecution; Step Functions guide, "Redriving Map Runs") reruns only the branches
and iterations that failed or were aborted, each from the state it stopped in (``resume``), and a
Distributed Map redrives only the unsuccessful child executions of its Map Run (``map_run``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lake.asl.choice import choose
from lake.asl.definition import StateMachineDefinition
from lake.asl.errors import NotRedrivable
from lake.asl.history import parse_event_time
from lake.asl.paths import parse_path

REDRIVABLE_PERIOD = timedelta(days=14)
MAX_EXECUTION_TIME = timedelta(days=365)
MAX_REDRIVES = 1000
MAX_HISTORY_EVENTS = 25_000
# A Parallel or inline/distributed Map state's inner events lie between these.
_OPENS = frozenset({"ParallelStateStarted", "MapStateStarted"})
_CLOSES = frozenset(
    {
        f"{kind}State{end}"
        for kind in ("Parallel", "Map")
        for end in ("Succeeded", "Failed", "Aborted")
    }
)
_ENDINGS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


@dataclass(frozen=True)
class ResumePoint:
    """Where and how a redrive continues."""

    state_name: str
    state_input: Any
    entered_id: int | None  # the resumed state's StateEntered event (None: never entered)
    execution_input: Any
    role_arn: str
    start_time: datetime
    redrive_count: int  # the count after this redrive


def status_of(events: list[dict]) -> str:
    """The status an execution's events show: its ending, or RUNNING without one."""
    for event in reversed(events):
        if event["type"] in _ENDINGS:
            return _ENDINGS[event["type"]]
        if event["type"] == "ExecutionRedriven":
            break
    return "RUNNING"


def plan_redrive(
    definition: StateMachineDefinition, events: list[dict], now: datetime
) -> ResumePoint:
    """Check AWS's conditions for a redrive and find the state to resume at.

    Raises NotRedrivable with AWS's reason when the execution cannot be redriven.
    """
    if not events or events[0]["type"] != "ExecutionStarted":
        raise NotRedrivable("Execution history does not start with ExecutionStarted.")
    status = status_of(events)
    if status in ("RUNNING", "SUCCEEDED"):
        raise NotRedrivable(f"Execution is {status} and cannot be redriven.")
    started = events[0]
    if now - parse_event_time(events[-1]["timestamp"]) > REDRIVABLE_PERIOD:
        raise NotRedrivable("Execution redrivable period exceeded.")
    if now - parse_event_time(started["timestamp"]) > MAX_EXECUTION_TIME:
        raise NotRedrivable("Execution has exceeded the max execution time.")
    if len(events) >= MAX_HISTORY_EVENTS:
        raise NotRedrivable("Execution history event limit exceeded.")
    redrives = sum(1 for event in events if event["type"] == "ExecutionRedriven")
    if redrives >= MAX_REDRIVES:
        raise NotRedrivable(f"Execution has been redriven the maximum {MAX_REDRIVES} times.")

    details = started["executionStartedEventDetails"]
    execution_input = json.loads(details["input"])
    name, state_input, entered_id = _unfinished_state(definition, events, execution_input)
    return ResumePoint(
        state_name=name,
        state_input=state_input,
        entered_id=entered_id,
        execution_input=execution_input,
        role_arn=details.get("roleArn", ""),
        start_time=parse_event_time(started["timestamp"]),
        redrive_count=redrives + 1,
    )


def _unfinished_state(
    definition: StateMachineDefinition, events: list[dict], execution_input: Any
) -> tuple[str, Any, int | None]:
    entered: dict[str, Any] = {}  # input of each state's latest entry
    entered_ids: dict[str, int] = {}
    open_state: str | None = None
    last_exit: tuple[str, Any] | None = None
    depth = 0  # > 0 inside a Parallel or Map state: its branches' own states are not ours
    for event in events:
        kind = event["type"]
        if kind in _OPENS:
            depth += 1
        elif kind in _CLOSES:
            depth -= 1
        elif depth:
            continue
        elif kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            open_state = details["name"]
            entered[open_state] = json.loads(details["input"])
            entered_ids[open_state] = event["id"]
        elif kind.endswith("StateExited"):
            details = event["stateExitedEventDetails"]
            open_state = None
            last_exit = (details["name"], json.loads(details["output"]))
    if open_state is not None:
        return open_state, entered[open_state], entered_ids[open_state]
    if last_exit is None:
        # Stopped before its first state (e.g. aborted at once): start from the beginning.
        return definition.start_at, execution_input, None
    # Stopped between two states (an abort): resume at the state that came next.
    name, output = last_exit
    following = next_state(definition.states, name, entered[name])
    if following is None:
        raise NotRedrivable(f"Execution has no unsuccessful state to redrive after '{name}'.")
    return following, output, None


def next_state(states: dict, name: str, state_input: Any) -> str | None:
    """The state that follows ``name`` once it exited (None after an end state)."""
    state = states[name]
    if state["Type"] != "Choice":
        return state.get("Next")
    # A Choice records no branch in its events; its rules decide again on the same input.
    effective = state_input
    if "InputPath" in state:
        effective = (
            {} if state["InputPath"] is None else parse_path(state["InputPath"]).read(state_input)
        )
    return choose(state, effective, {})
