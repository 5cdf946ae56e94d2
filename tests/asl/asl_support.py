"""Helpers for the ASL interpreter tests: tiny definitions, fake integrations, a fake clock."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lake.asl import ExecutionResult, Executor, TaskFailure, TaskRequest
from lake.asl.definition import StateMachineDefinition, parse_definition

LAMBDA = "arn:aws:states:::lambda:invoke"
GLUE = "arn:aws:states:::glue:startJobRun.sync"
STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:tiny"
EXECUTION_ARN = "arn:aws:states:eu-west-1:123456789012:execution:tiny:run-1"


def definition(states: dict, start: str | None = None, **top: Any) -> StateMachineDefinition:
    """A definition of ``states`` starting at ``start`` (default: the first state)."""
    raw = {"StartAt": start or next(iter(states)), "States": states, **top}
    return parse_definition(json.dumps(raw))


def task(resource: str = LAMBDA, **fields: Any) -> dict:
    """A Task state that ends the execution unless ``Next`` is given."""
    state = {"Type": "Task", "Resource": resource, **fields}
    if "Next" not in state:
        state["End"] = True
    return state


class FakeSleep:
    """Records every requested wait instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Script:
    """An integration that plays a script: each call takes the next outcome.

    An outcome is a result to return, a TaskFailure (or other exception) to raise, or a
    callable taking the TaskRequest. Every request is kept in ``requests``.
    """

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.requests: list[TaskRequest] = []

    def __call__(self, request: TaskRequest) -> Any:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            return outcome(request)
        return outcome

    @property
    def calls(self) -> int:
        return len(self.requests)


class StepWork:
    """Integrations that work on `parameters["item"]` in named steps: `step(name)` is one; they
    count their calls per (step, item) and fail (Work.Failed) for the pairs in `failing`."""

    def __init__(self, failing: set) -> None:
        self.failing = set(failing)
        self.calls: Counter = Counter()
        self.lock = threading.Lock()  # branches and iterations call from several threads

    def step(self, name: str) -> Callable[[TaskRequest], str]:
        def integration(request: TaskRequest) -> str:
            item = request.parameters["item"]
            with self.lock:
                self.calls[(name, item)] += 1
            if (name, item) in self.failing:
                raise TaskFailure("Work.Failed", f"{name} {item}")
            return f"{name}-{item}"

        return integration


def failing(error: str, cause: str = "") -> TaskFailure:
    return TaskFailure(error, cause)


class Clock:
    """A clock that advances one millisecond per reading, from a fixed instant."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def run(
    machine: StateMachineDefinition,
    integrations: dict[str, Callable] | Callable[[str], Callable],
    input: Any = None,
    *,
    name: str = "run-1",
    **executor: Any,
) -> ExecutionResult:
    """Start one execution with a fake sleep and seeded rng unless told otherwise."""
    executor.setdefault("sleep", FakeSleep())
    executor.setdefault("rng", random.Random(7))
    executor.setdefault("clock", Clock())
    return Executor(machine, integrations, **executor).start(
        execution_arn=EXECUTION_ARN,
        name=name,
        input={} if input is None else input,
        state_machine_arn=STATE_MACHINE_ARN,
    )


def redrive(
    machine: StateMachineDefinition,
    integrations: dict[str, Callable] | Callable[[str], Callable],
    events: list[dict],
    *,
    name: str = "run-1",
    **executor: Any,
) -> ExecutionResult:
    """Redrive one execution from its events, with a fake sleep and seeded rng unless told
    otherwise."""
    executor.setdefault("sleep", FakeSleep())
    executor.setdefault("rng", random.Random(1))
    executor.setdefault("clock", Clock())
    return Executor(machine, integrations, **executor).redrive(
        events, execution_arn=EXECUTION_ARN, name=name, state_machine_arn=STATE_MACHINE_ARN
    )


def types(result: ExecutionResult) -> list[str]:
    """The event types of an execution, in order."""
    return [event["type"] for event in result.events]


def details(result: ExecutionResult, event_type: str) -> list[dict]:
    """The details objects of every event of ``event_type``."""
    from lake.asl.history import details_key

    key = details_key(event_type)
    return [e.get(key, {}) for e in result.events if e["type"] == event_type]
