"""The data that crosses the interpreter's boundary: task requests, integrations, results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _ignore(_: Any) -> None:
    return None


@dataclass
class TaskRequest:
    """What a Task state asks of its integration.

    ``parameters`` is the effective input after InputPath and Parameters (paths, context
    object and intrinsics resolved); ``context`` is the context object (``$$``) of this
    attempt; ``timeout_seconds`` the state's TimeoutSeconds, if any (the interpreter enforces
    it; integrations may use it to stop early). A ``.sync`` integration may call
    ``submitted(response)`` once its job is started, which records a TaskSubmitted event
    as Step Functions does.
    """

    resource: str
    parameters: Any
    state_name: str
    context: dict
    timeout_seconds: int | None
    submitted: Callable[[Any], None] = field(default=_ignore, repr=False)


# Returns the task's result (JSON-able) or raises TaskFailure(error, cause).
Integration = Callable[[TaskRequest], Any]


@dataclass
class ExecutionResult:
    """How an execution (or a redrive of it) ended.

    ``status`` is SUCCEEDED, FAILED, TIMED_OUT or ABORTED; ``events`` holds every event of the
    execution, earlier attempts' included after a redrive. ``failed_state`` names the state
    the execution stopped in (or was about to enter, for an abort between states).
    """

    status: str
    output: Any | None
    error: str | None
    cause: str | None
    events: list[dict]
    redrive_count: int
    failed_state: str | None = None


CANCELLED = "CANCELLED"  # a branch or iteration stopped because a sibling failed


class Stopped(Exception):
    """The execution stops without the current state finishing: TIMED_OUT or ABORTED (or, inside
    a Parallel or Map state, CANCELLED). ``state_name`` names the state that did not finish."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status
        self.state_name: str | None = None


@dataclass(frozen=True)
class Services:
    """What an executor lends every Run: the task-token registry and the map-run observer."""

    tokens: Any
    observer: Any
    on_event: Callable[[dict], None] | None = None
