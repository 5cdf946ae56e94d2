"""The Task state: calling the integration under a deadline, Retry, Catch, result shaping.

An integration runs in a worker thread so that TimeoutSeconds can be enforced without its
co-operation: when the deadline passes the state fails with States.Timeout (a TaskTimedOut
event) and whatever the worker returns later is ignored, as Step Functions ignores a task that
outlived its timeout.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from lake.asl.definition import split_resource
from lake.asl.errors import (
    STATES_RUNTIME,
    STATES_TASK_FAILED,
    STATES_TIMEOUT,
    UNCATCHABLE_ERRORS,
    StatesError,
    TaskFailure,
)
from lake.asl.history import to_json
from lake.asl.model import Integration, Stopped, TaskRequest
from lake.asl.payload import render
from lake.asl.retry import Retrier, RetryBudget, error_matches

if TYPE_CHECKING:
    from lake.asl.run import Run

_MAX_CAUSE = 32_768  # Step Functions' limit on a cause


def run_task(run: Run, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
    """Run a Task state entered with ``data``; return (next state or None, output).

    Raises StatesError when the state fails and no catcher takes the error, Stopped when the
    execution times out or is aborted meanwhile.
    """
    resource = state["Resource"]
    integration = run.resolve(resource)
    budget = RetryBudget([Retrier.from_json(raw) for raw in state.get("Retry", [])])
    while True:
        try:
            effective = run.input_path(state, data)
            if "Parameters" in state:
                # Rendered per attempt: $$.State.RetryCount changes between attempts.
                effective = render(state["Parameters"], effective, run.context, run.rng)
            result = _invoke(run, name, state, integration, effective)
            output = _shape(run, state, data, result)
        except StatesError as error:
            if error.error in UNCATCHABLE_ERRORS:
                raise
            delay = budget.next_delay(error.error, run.rng)
            if delay is not None:
                run.wait(delay * run.time_scale)
                run.context["State"]["RetryCount"] += 1
                continue
            for catcher in state.get("Catch", []):
                if error_matches(catcher["ErrorEquals"], error.error):
                    output = run.result_path(
                        catcher, data, {"Error": error.error, "Cause": error.cause}
                    )
                    run.history.state_exited("Task", name, output)
                    return catcher["Next"], output
            raise
        run.history.state_exited("Task", name, output)
        return state.get("Next"), output


def _shape(run: Run, state: dict, data: Any, result: Any) -> Any:
    """ResultSelector, then ResultPath onto the state's input, then OutputPath."""
    if "ResultSelector" in state:
        result = render(state["ResultSelector"], result, run.context, run.rng)
    return run.output_path(state, run.result_path(state, data, result))


class _Attempt:
    """One call of an integration in a daemon worker thread."""

    def __init__(self, integration: Integration, request: TaskRequest) -> None:
        self.done = threading.Event()
        self.open = True  # False once the interpreter stops listening (timeout)
        self.result: Any = None
        self.error: BaseException | None = None
        self._integration = integration
        self._request = request

    def start(self) -> None:
        """Start the worker (separately from __init__: the worker may call back at once)."""
        worker = threading.Thread(
            target=self._run, name=f"asl-task-{self._request.state_name}", daemon=True
        )
        worker.start()

    def _run(self) -> None:
        try:
            self.result = self._integration(self._request)
        except BaseException as error:  # the worker must always report back
            self.error = error
        finally:
            self.done.set()


def _invoke(run: Run, name: str, state: dict, integration: Integration, parameters: Any) -> Any:
    resource = state["Resource"]
    resource_type, resource_name = split_resource(resource)
    identity = {"resourceType": resource_type, "resource": resource_name}
    timeout = state.get("TimeoutSeconds")
    scheduled = {**identity, "region": run.region, "parameters": to_json(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    run.history.add("TaskScheduled", scheduled)
    run.history.add("TaskStarted", dict(identity))

    attempt: _Attempt

    def submitted(response: Any) -> None:
        if attempt.open and not attempt.done.is_set():
            run.history.add(
                "TaskSubmitted",
                {**identity, "output": to_json(response), "outputDetails": {"truncated": False}},
            )

    request = TaskRequest(
        resource=resource,
        parameters=parameters,
        state_name=name,
        context=json.loads(to_json(run.context)),
        timeout_seconds=timeout,
        submitted=submitted,
    )
    attempt = _Attempt(integration, request)
    attempt.start()
    task_deadline = time.monotonic() + timeout * run.timeout_scale if timeout else None
    while True:
        deadlines = [d for d in (task_deadline, run.deadline) if d is not None]
        remaining = max(min(deadlines) - time.monotonic(), 0.0) if deadlines else None
        if attempt.done.wait(remaining):
            break
        now = time.monotonic()
        if run.deadline is not None and now >= run.deadline:
            attempt.open = False
            raise Stopped("TIMED_OUT")
        if task_deadline is not None and now >= task_deadline:
            attempt.open = False
            cause = f"The task did not finish within its TimeoutSeconds ({timeout} s)."
            run.history.add("TaskTimedOut", {**identity, "error": STATES_TIMEOUT, "cause": cause})
            raise StatesError(STATES_TIMEOUT, cause)
    attempt.open = False
    return _outcome(run, identity, attempt)


def _outcome(run: Run, identity: dict, attempt: _Attempt) -> Any:
    error = attempt.error
    if error is None:
        try:
            output = to_json(attempt.result)
        except (TypeError, ValueError) as bad:
            error = TaskFailure(STATES_RUNTIME, f"The task result is not JSON: {bad}")
        else:
            run.history.add(
                "TaskSucceeded",
                {**identity, "output": output, "outputDetails": {"truncated": False}},
            )
            return json.loads(output)  # a private copy the integration cannot change later
    if isinstance(error, TaskFailure):
        name, cause = error.error, error.cause
    else:
        # Not an error the integration meant to report: a crash, reported as the task failing.
        name = STATES_TASK_FAILED
        cause = "".join(traceback.format_exception(error)).strip()[-_MAX_CAUSE:]
    run.history.add("TaskFailed", {**identity, "error": name, "cause": cause})
    raise StatesError(name, cause)
