"""One pass of the interpreter over a definition: from a state, with an input, to an end.

``Run`` owns the execution's clock-bound concerns (execution timeout, abort, scaled waits),
moves from state to state, records the history and checks each state's output against the
payload quota; the Task state lives in ``task_state``, Parallel in ``parallel_state``, Map in
``map_state`` (inline) and ``map_run`` (distributed).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lake.asl import map_state, parallel_state, task_state
from lake.asl.choice import choose, parse_timestamp
from lake.asl.definition import StateMachineDefinition
from lake.asl.errors import (
    STATES_RESULT_PATH_MATCH_FAILURE,
    STATES_RUNTIME,
    STATES_TIMEOUT,
    StatesError,
)
from lake.asl.history import History, context_time, error_details, to_json
from lake.asl.limits import result_too_large, too_large
from lake.asl.model import CANCELLED, ExecutionResult, Integration, Stopped
from lake.asl.paths import PathNotFound, PathWriteFailure, parse_path, parse_reference_path
from lake.asl.payload import evaluate_expression, expression, render
from lake.asl.resume import Resume

_RETRYING_STATES = frozenset({"Task", "Parallel", "Map"})
# Errors the interpreter raises itself while evaluating a state, whose cause AWS prefixes with
# the state and the id of its Entered event.
_LOCATED_ERRORS = frozenset({STATES_RUNTIME})


def _locate(error: StatesError, name: str, entered_id: int) -> None:
    if error.error in _LOCATED_ERRORS and not error.located:
        error.cause = (
            f"An error occurred while executing the state '{name}' (entered at the event id "
            f"#{entered_id}). {error.cause}"
        )
        error.located = True


class FailStateReached(StatesError):
    """A Fail state ends the execution with its (possibly absent) Error and Cause."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error, cause)


class Run:
    """Executes states from a starting point until the execution ends, recording events.

    One Run serves one execution. A Parallel branch or a Map iteration runs on a ``scoped`` copy
    that shares the history, deadline and integrations but has its own context object and may
    be cancelled when a sibling fails.
    """

    def __init__(
        self,
        *,
        definition: StateMachineDefinition,
        resolve: Callable[[str], Integration],
        history: History,
        context: dict,
        rng: random.Random,
        sleep: Callable[[float], None],
        abort: threading.Event | None,
        time_scale: float,
        timeout_scale: float,
        clock: Callable[[], datetime],
        region: str,
        services: Any = None,
        machine: dict | None = None,
    ) -> None:
        self.definition = definition
        self.machine = machine if machine is not None else definition.raw
        self.resolve = resolve
        self.history = history
        self.context = context
        self.rng = rng
        self.abort = abort
        self.cancel: threading.Event | None = None
        self.time_scale = time_scale
        self.timeout_scale = timeout_scale
        self.clock = clock
        self.region = region
        self.services = services  # the executor's tokens, observer and child-execution factory
        # A redrive: where this thread continues (consumed by the first state it enters), and
        # the resume point of the state being entered now (Parallel and Map read it).
        self.resume: Resume | None = None
        self.entering: Resume | None = None
        self._sleep = sleep
        timeout = self.machine.get("TimeoutSeconds")
        # Starts now: AWS also restarts the execution timeout when an execution is redriven.
        self.deadline = time.monotonic() + timeout * timeout_scale if timeout else None

    def scoped(self, context: dict, cancel: threading.Event | None) -> Run:
        """A copy for a branch or iteration: same history (its own thread of events in it) and
        deadline, its own context."""
        branch = copy.copy(self)
        branch.context = context
        branch.cancel = cancel
        branch.history = self.history.branch()
        branch.resume = branch.entering = None
        return branch

    # -- the main loop -------------------------------------------------------------------

    def execute(self, name: str, data: Any) -> ExecutionResult:
        """Run from state ``name`` with input ``data`` to the end of the execution."""
        try:
            output = self.run_states(self.machine["States"], name, data)
        except Stopped as stop:
            return self._stopped(stop.status, stop.state_name or name)
        except StatesError as error:
            return self._failed(error, getattr(error, "state_name", name))
        self.history.add(
            "ExecutionSucceeded",
            {"output": to_json(output), "outputDetails": {"truncated": False}},
        )
        return self._result("SUCCEEDED", output=output)

    def run_states(self, states: dict, name: str, data: Any) -> Any:
        """Run ``states`` (a machine, branch or item processor) from ``name``; return the output.

        Raises StatesError or Stopped naming, in ``state_name``, the state of this level that
        did not finish (the outermost level's name is the one an execution reports).
        """
        handlers = {
            "Pass": self._pass,
            "Choice": self._choice,
            "Wait": self._wait_state,
            "Succeed": self._succeed,
            "Fail": self._fail,
            "Task": lambda n, s, d: task_state.run_task(self, n, s, d),
            "Parallel": lambda n, s, d: parallel_state.run_parallel(self, n, s, d),
            "Map": lambda n, s, d: map_state.run_map(self, n, s, d),
        }
        while True:
            try:
                self.check_stop()
            except Stopped as stop:
                stop.state_name = name
                raise
            state = states[name]
            resume, self.resume = self.resume, None
            self.entering = resume if resume is not None and resume.state_name == name else None
            self.context["State"] = {"EnteredTime": context_time(self.clock()), "Name": name}
            if state["Type"] in _RETRYING_STATES:
                # Step Functions guide, "Context object": RetryCount is there for states that
                # retry; a Pass state sees only Name and EnteredTime.
                self.context["State"]["RetryCount"] = 0
            entered = self.history.state_entered(state["Type"], name, data)
            try:
                next_name, output = handlers[state["Type"]](name, state, data)
                if too_large(output):
                    raise result_too_large(name)
                self.history.state_exited(state["Type"], name, output)
            except Stopped as stop:
                stop.state_name = name
                raise
            except StatesError as error:
                _locate(error, name, entered["id"])
                error.state_name = name  # type: ignore[attr-defined]
                raise
            if next_name is None:
                return output
            name, data = next_name, output

    def _result(self, status: str, **fields: Any) -> ExecutionResult:
        return ExecutionResult(
            status=status,
            output=fields.get("output"),
            error=fields.get("error"),
            cause=fields.get("cause"),
            events=self.history.events,
            redrive_count=self.context["Execution"]["RedriveCount"],
            failed_state=fields.get("failed_state"),
        )

    def _failed(self, error: StatesError, name: str) -> ExecutionResult:
        self.history.add("ExecutionFailed", error_details(error.error, error.cause))
        return self._result("FAILED", error=error.error, cause=error.cause, failed_state=name)

    def _stopped(self, status: str, name: str) -> ExecutionResult:
        if status == "TIMED_OUT":
            self.history.add("ExecutionTimedOut", {"error": STATES_TIMEOUT})
            return self._result(status, error=STATES_TIMEOUT, failed_state=name)
        self.history.add("ExecutionAborted")
        return self._result(status, failed_state=name)

    # -- time ------------------------------------------------------------------------------

    def check_stop(self) -> None:
        """Raise Stopped if the execution has timed out, been asked to abort, or this branch
        was cancelled because a sibling failed."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise Stopped("TIMED_OUT")
        if self.abort is not None and self.abort.is_set():
            raise Stopped("ABORTED")
        if self.cancel is not None and self.cancel.is_set():
            raise Stopped(CANCELLED)

    def wait(self, seconds: float) -> None:
        """Wait ``seconds`` (already scaled); raise Stopped at the deadline or on abort."""
        timed_out = False
        if self.deadline is not None:
            remaining = max(self.deadline - time.monotonic(), 0.0)
            if seconds >= remaining:
                seconds, timed_out = remaining, True
        self._sleep_for(seconds)
        if self.abort is not None and self.abort.is_set():
            raise Stopped("ABORTED")
        if self.cancel is not None and self.cancel.is_set():
            raise Stopped(CANCELLED)
        if timed_out:
            raise Stopped("TIMED_OUT")

    def _sleep_for(self, seconds: float) -> None:
        # With the real clock, wait on the abort (and cancel) events so that an abort or a
        # failing sibling branch cuts a long wait short; an injected sleep (tests) is always
        # called, so it sees every requested wait.
        if self._sleep is not time.sleep or (self.abort is None and self.cancel is None):
            self._sleep(seconds)
            return
        end = time.monotonic() + seconds
        while (remaining := end - time.monotonic()) > 0:
            if self.cancel is not None and self.cancel.is_set():
                return
            if self.abort is not None and self.abort.is_set():
                return
            (self.cancel or self.abort).wait(min(remaining, 0.05))  # type: ignore[union-attr]

    # -- input and output processing -----------------------------------------------------

    def input_path(self, state: dict, data: Any) -> Any:
        """The effective input after InputPath (null -> {})."""
        return self._select(state, "InputPath", data)

    def output_path(self, state: dict, output: Any) -> Any:
        """The state output after OutputPath (null -> {})."""
        return self._select(state, "OutputPath", output)

    def _select(self, state: dict, key: str, data: Any) -> Any:
        if key not in state:
            return data
        if state[key] is None:
            return {}
        path = parse_path(state[key])
        try:
            return path.read(self.context if path.context else data)
        except PathNotFound as error:
            raise StatesError(STATES_RUNTIME, str(error)) from error

    def result_path(self, holder: dict, data: Any, result: Any) -> Any:
        """``data`` with ``result`` at ``holder``'s ResultPath (default $; null keeps data)."""
        if "ResultPath" in holder and holder["ResultPath"] is None:
            return data
        path = parse_reference_path(holder.get("ResultPath", "$"))
        try:
            return path.write(data, result)
        except PathWriteFailure as error:
            raise StatesError(STATES_RESULT_PATH_MATCH_FAILURE, str(error)) from error

    # -- the states other than Task --------------------------------------------------------

    def _pass(self, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
        effective = self.input_path(state, data)
        if "Parameters" in state:
            effective = render(state["Parameters"], effective, self.context, self.rng)
        result = state.get("Result", effective)
        output = self.output_path(state, self.result_path(state, data, result))
        return state.get("Next"), output

    def _choice(self, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
        effective = self.input_path(state, data)
        next_name = choose(state, effective, self.context)
        output = self.output_path(state, effective)
        return next_name, output

    def _wait_state(self, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
        effective = self.input_path(state, data)
        self.wait(self._wait_seconds(state, effective) * self.time_scale)
        output = self.output_path(state, effective)
        return state.get("Next"), output

    def _wait_seconds(self, state: dict, data: Any) -> float:
        if "Seconds" in state:
            return state["Seconds"]
        if "SecondsPath" in state:
            seconds = self._read(state["SecondsPath"], data, "SecondsPath")
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
                raise StatesError(
                    STATES_RUNTIME,
                    f"The SecondsPath parameter does not reference a valid positive integer: "
                    f"{to_json(seconds)}",
                )
            return seconds
        text = (
            state["Timestamp"]
            if "Timestamp" in state
            else self._read(state["TimestampPath"], data, "TimestampPath")
        )
        moment = parse_timestamp(text)
        if moment is None:
            raise StatesError(
                STATES_RUNTIME,
                f"The TimestampPath parameter does not reference a valid ISO-8601 timestamp: "
                f"{to_json(text)}",
            )
        return max((moment - self.clock()).total_seconds(), 0.0)

    def _read(self, text: str, data: Any, field: str) -> Any:
        return evaluate_expression(expression(text), data, self.context, self.rng, field)

    def _succeed(self, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
        output = self.output_path(state, self.input_path(state, data))
        return None, output

    def _fail(self, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
        error, cause = state.get("Error"), state.get("Cause")
        if "ErrorPath" in state:
            error = self._fail_text(state["ErrorPath"], data, "ErrorPath")
        if "CausePath" in state:
            cause = self._fail_text(state["CausePath"], data, "CausePath")
        raise FailStateReached(error, cause)

    def _fail_text(self, text: str, data: Any, field: str) -> str:
        value = self._read(text, data, field)
        if not isinstance(value, str):
            raise StatesError(
                STATES_RUNTIME,
                f"The {field} '{text}' does not resolve to a string: {to_json(value)}",
            )
        return value
