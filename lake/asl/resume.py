"""Where a redrive continues inside a Parallel or Map state: which branches and iterations of
its last attempt finished (and with what output), and where each of the others stopped.

Step Functions API reference, RedriveExecution: "For workflows that include an Inline Map or
Parallel state, RedriveExecution API action reschedules and redrives only the iterations and
branches that failed or aborted." The history tells them apart by ``previousEventId``: every
thread of execution (the execution, a branch, an iteration) chains its own events (see
``history``), so the events of the attempt are split into threads, each thread read like an
execution's events.

When a history cannot be split that way (recorded before threads were chained, or not by this
interpreter), ``branch_outcomes`` answers None and the state runs every branch again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lake.asl.redrive import next_state

_CLOSE_ENDS = ("Succeeded", "Failed", "Aborted")


@dataclass(frozen=True)
class Resume:
    """Where one thread (the execution, a branch, an iteration) continues after a redrive: at
    ``state_name`` with ``state_input``. ``entered_id`` is that state's StateEntered event of the
    earlier attempt (None when it was not entered), ``events`` the earlier attempt's events."""

    state_name: str
    state_input: Any
    entered_id: int | None
    events: tuple[dict, ...]


@dataclass(frozen=True)
class Finished:
    """A branch or iteration that succeeded in the earlier attempt, with its output."""

    output: Any


class _Threads:
    """The events of a history indexed by the event they follow."""

    def __init__(self, events: Iterable[dict]) -> None:
        self.by_id = {event["id"]: event for event in events}
        self.followers: dict[int, list[dict]] = defaultdict(list)
        for event in sorted(self.by_id.values(), key=lambda e: e["id"]):
            self.followers[event.get("previousEventId", 0)].append(event)

    def chain(self, first: dict) -> list[dict]:
        """The thread that starts at ``first``: each event followed by the next event of the
        same thread (a Started event's branches and iterations are threads of their own)."""
        thread = [first]
        while True:
            current = thread[-1]
            followers = self.followers.get(current["id"], [])
            following = [e for e in followers if _same_thread(current, e)]
            if not following:
                return thread
            thread.append(following[0])

    def roots(self, started: dict) -> list[dict]:
        """The first events of the branches or iterations a Started event began."""
        return [e for e in self.followers.get(started["id"], []) if not _same_thread(started, e)]


def _same_thread(current: dict, following: dict) -> bool:
    """Whether ``following`` continues ``current``'s thread (not a branch or iteration it
    began)."""
    kind = current["type"]
    if kind == "ParallelStateStarted":
        return following["type"] in {f"ParallelState{end}" for end in _CLOSE_ENDS}
    if kind == "MapStateStarted":
        return following["type"] != "MapIterationStarted" and not following["type"].endswith(
            "StateEntered"
        )
    return True


def _last_started(threads: _Threads, entered_id: int, started_type: str) -> dict | None:
    """The Started event of the state's last attempt (Retry makes several)."""
    entered = threads.by_id.get(entered_id)
    if entered is None:
        return None
    started = [e for e in threads.chain(entered) if e["type"] == started_type]
    return started[-1] if started else None


def state_attempt(events: Iterable[dict], entered_id: int) -> list[dict]:
    """The events of one state's entry, in its own thread: from its StateEntered on."""
    threads = _Threads(events)
    entered = threads.by_id.get(entered_id)
    return threads.chain(entered) if entered else []


def _state_names(machine: dict) -> set[str]:
    names = set(machine.get("States", {}))
    for state in machine.get("States", {}).values():
        for inner in state.get("Branches", []):
            names |= _state_names(inner)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            names |= _state_names(processor)
    return names


def _named(event: dict) -> str | None:
    for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
        if key in event:
            return event[key]["name"]
    return None


def _thread_outcome(
    thread: list[dict], machine: dict, thread_input: Any, events: tuple[dict, ...]
) -> Finished | Resume:
    """How one branch or iteration ended: Finished with the output of its last state, or
    where to resume it (the state entered and not left, else its first state)."""
    open_state: tuple[str, int, Any] | None = None
    last_exit: tuple[str, Any] | None = None
    entered: dict[str, Any] = {}
    for event in thread:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            entered[details["name"]] = json.loads(details["input"])
            open_state = (details["name"], event["id"], entered[details["name"]])
        elif kind.endswith("StateExited"):
            details = event["stateExitedEventDetails"]
            open_state = None
            last_exit = (details["name"], json.loads(details["output"]))
    if open_state is not None:
        name, entered_id, state_input = open_state
        return Resume(name, state_input, entered_id, events)
    if last_exit is None:
        return Resume(machine["StartAt"], thread_input, None, events)
    name, output = last_exit
    following = next_state(machine["States"], name, entered[name])
    if following is None:
        return Finished(output)
    return Resume(following, output, None, events)


def branch_outcomes(
    resume: Resume, kind: str, machines: list[dict], inputs: list[Any]
) -> list[Finished | Resume] | None:
    """Per branch (Parallel, ``machines`` = its Branches) or iteration (Map, one machine per
    item), how the last attempt of the state left it; None when the history cannot tell."""
    if resume.entered_id is None:
        return None
    threads = _Threads(resume.events)
    started = _last_started(threads, resume.entered_id, f"{kind}StateStarted")
    if started is None:
        return None
    outcomes: list[Finished | Resume | None] = [None] * len(machines)
    for root in threads.roots(started):
        thread = threads.chain(root)
        if kind == "Map":
            details = root.get("mapIterationStartedEventDetails") or {}
            index = details.get("index")
            if not isinstance(index, int) or not 0 <= index < len(machines):
                return None
            states = thread[1:]
        else:
            name = _named(root)
            matching = [i for i, m in enumerate(machines) if m.get("StartAt") == name]
            if len(matching) != 1:
                return None
            index, states = matching[0], thread
        known = _state_names(machines[index])
        if any((n := _named(e)) is not None and n not in known for e in states):
            return None  # events of other threads in this one: an unthreaded history
        if outcomes[index] is not None:
            return None
        outcomes[index] = _thread_outcome(states, machines[index], inputs[index], resume.events)
    return [
        outcome
        if outcome is not None
        else Resume(machines[i]["StartAt"], inputs[i], None, resume.events)
        for i, outcome in enumerate(outcomes)
    ]


def map_run_of(resume: Resume) -> dict | None:
    """The Map Run of a Distributed Map state's last attempt: ``{"mapRunArn", "error"}`` (the
    error it failed with, if any); None when it started none."""
    if resume.entered_id is None:
        return None
    threads = _Threads(resume.events)
    entered = threads.by_id.get(resume.entered_id)
    if entered is None:
        return None
    found: dict | None = None
    for event in threads.chain(entered):
        details = event.get("mapRunStartedEventDetails") or event.get("mapRunRedrivenEventDetails")
        if details:
            found = {"mapRunArn": details["mapRunArn"], "error": None}
        elif event["type"] == "MapRunFailed" and found is not None:
            found["error"] = (event.get("mapRunFailedEventDetails") or {}).get("error")
    return found
