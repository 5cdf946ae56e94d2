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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lake.asl.definition_checks import split_resource
from lake.asl.errors import (
    STATES_RUNTIME,
    STATES_TASK_FAILED,
    STATES_TIMEOUT,
    StatesError,
    TaskFailure,
)
from lake.asl.history import error_details, to_json
from lake.asl.limits import input_too_large, result_too_large, too_large
from lake.asl.model import Integration, Stopped, TaskRequest
from lake.asl.path_fields import field_value
from lake.asl.payload import render
from lake.asl.recovery import with_recovery
from lake.asl.service_catalog import is_callback

if TYPE_CHECKING:
    from lake.asl.run import Run

_MAX_CAUSE = 32_768  # Step Functions' limit on a cause
_POLL = 0.05  # how often a task waiting for its token looks at abort


def run_task(run: Run, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
    """Run a Task state entered with ``data``; return (next state or None, output).

    Raises StatesError when the state fails and no catcher takes the error, Stopped when the
    execution times out or is aborted meanwhile.
    """
    integration = run.resolve(state["Resource"])

    def attempt() -> Any:
        token = None
        if is_callback(state["Resource"]):
            token = run.services.tokens.issue(run.context["Execution"]["Id"], name)
            run.context["Task"] = {"Token": token}  # $$.Task.Token, for Parameters
        try:
            effective = run.input_path(state, data)
            if "Parameters" in state:
                # Rendered per attempt: $$.State.RetryCount changes between attempts.
                effective = render(state["Parameters"], effective, run.context, run.rng)
            if too_large(effective):
                raise input_too_large(name)
            result = _invoke(run, name, state, data, integration, effective, token)
        finally:
            run.context.pop("Task", None)
            if token is not None:
                run.services.tokens.close(token, timed_out=False)
        return _shape(run, state, data, result)

    return with_recovery(run, state, data, attempt)


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


def _seconds(run: Run, state: dict, data: Any, key: str) -> int | None:
    """TimeoutSeconds / HeartbeatSeconds, given directly or through their ...Path."""
    # Amazon States Language, "Task state": the path must resolve to a positive integer.
    return field_value(
        state,
        key,
        data,
        run.context,
        valid=lambda value: isinstance(value, int) and value >= 1,
        refusal="The {field}Path parameter does not reference a valid positive integer: {value}",
    )


def _invoke(
    run: Run,
    name: str,
    state: dict,
    data: Any,
    integration: Integration,
    parameters: Any,
    token: str | None,
) -> Any:
    resource = state["Resource"]
    resource_type, resource_name = split_resource(resource)
    identity = {"resourceType": resource_type, "resource": resource_name}
    timeout = _seconds(run, state, data, "TimeoutSeconds")
    heartbeat = _seconds(run, state, data, "HeartbeatSeconds")
    scheduled = {**identity, "region": run.region, "parameters": to_json(parameters)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        scheduled["heartbeatInSeconds"] = heartbeat
    context = json.loads(to_json(run.context))
    run.history.add("TaskScheduled", scheduled)
    run.history.add("TaskStarted", dict(identity))
    return _call(
        run, resource, identity, integration, parameters, name, context, timeout, heartbeat, token
    )


def _call(
    run: Run,
    resource: str,
    identity: dict,
    integration: Integration,
    parameters: Any,
    name: str,
    context: dict,
    timeout: int | None,
    heartbeat: int | None,
    token: str | None,
) -> Any:
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
        context=context,
        timeout_seconds=timeout,
        submitted=submitted,
    )
    attempt = _Attempt(integration, request)
    attempt.start()
    task_deadline = time.monotonic() + timeout * run.timeout_scale if timeout else None
    _wait_for(run, identity, lambda seconds: attempt.done.wait(seconds), task_deadline, attempt)
    attempt.open = False
    if token is None:
        return _outcome(run, identity, attempt)
    # Wait for Callback: the integration's response is the TaskSubmitted event, and the task
    # waits for SendTaskSuccess / SendTaskFailure (Step Functions guide, "Wait for a Callback
    # with Task Token"); an integration that fails fails the task at once.
    if attempt.error is not None:
        return _outcome(run, identity, attempt)
    submitted_output = _json_or_failure(run, identity, attempt.result)
    run.history.add(
        "TaskSubmitted",
        {**identity, "output": submitted_output, "outputDetails": {"truncated": False}},
    )
    return _await_token(run, identity, token, task_deadline, heartbeat)


def _wait_for(
    run: Run,
    identity: dict,
    done: Callable[[float | None], bool],
    task_deadline: float | None,
    attempt: _Attempt | None = None,
) -> None:
    while True:
        deadlines = [d for d in (task_deadline, run.deadline) if d is not None]
        remaining = max(min(deadlines) - time.monotonic(), 0.0) if deadlines else None
        if done(remaining):
            return
        now = time.monotonic()
        if run.deadline is not None and now >= run.deadline:
            if attempt is not None:
                attempt.open = False
            raise Stopped("TIMED_OUT")
        if task_deadline is not None and now >= task_deadline:
            if attempt is not None:
                attempt.open = False
            raise _timed_out(run, identity)


def _timed_out(run: Run, identity: dict) -> StatesError:
    # As AWS records it: TaskTimedOut and ExecutionFailed carry the error and no cause (LocalStack's
    # test_timeouts / test_heartbeats snapshots, recorded against AWS). AWS also reports a missed
    # heartbeat as States.Timeout there, although the guide names States.HeartbeatTimeout.
    run.history.add("TaskTimedOut", {**identity, "error": STATES_TIMEOUT})
    return StatesError(STATES_TIMEOUT, None)


def _await_token(
    run: Run, identity: dict, token: str, task_deadline: float | None, heartbeat: int | None
) -> Any:
    tokens = run.services.tokens
    while True:
        now = time.monotonic()
        outcome, beat = tokens.wait(token, 0)
        if outcome is None:
            limits = [d for d in (task_deadline, run.deadline) if d is not None]
            if heartbeat is not None:
                limits.append(beat + heartbeat * run.timeout_scale)
            if limits and now >= min(limits):
                if run.deadline is not None and now >= run.deadline:
                    tokens.close(token, timed_out=True)
                    raise Stopped("TIMED_OUT")
                tokens.close(token, timed_out=True)
                raise _timed_out(run, identity)
            run.check_stop()
            wait = min([*(limit - now for limit in limits), _POLL])
            outcome, _ = tokens.wait(token, max(wait, 0.0))
        if outcome is None:
            continue
        if outcome.succeeded:
            result = json.loads(outcome.output or "null")
            return _succeeded(run, identity, result)
        run.history.add("TaskFailed", {**identity, **error_details(outcome.error, outcome.cause)})
        raise StatesError(outcome.error, outcome.cause)


def _json_or_failure(run: Run, identity: dict, result: Any) -> str:
    try:
        return to_json(result)
    except (TypeError, ValueError) as bad:
        cause = f"The task result is not JSON: {bad}"
        run.history.add("TaskFailed", {**identity, "error": STATES_RUNTIME, "cause": cause})
        raise StatesError(STATES_RUNTIME, cause) from bad


def _succeeded(run: Run, identity: dict, result: Any) -> Any:
    if too_large(result):
        # Step Functions guide, "Step Functions service quotas"; the failure is recorded as a
        # TaskFailed naming the resource type, as on AWS.
        error = result_too_large(identity["resourceType"])
        run.history.add("TaskFailed", {**identity, "error": error.error, "cause": error.cause})
        raise error
    output = to_json(result)
    run.history.add(
        "TaskSucceeded", {**identity, "output": output, "outputDetails": {"truncated": False}}
    )
    return json.loads(output)  # a private copy the integration cannot change later


def _outcome(run: Run, identity: dict, attempt: _Attempt) -> Any:
    error = attempt.error
    if error is None:
        try:
            to_json(attempt.result)
        except (TypeError, ValueError) as bad:
            error = TaskFailure(STATES_RUNTIME, f"The task result is not JSON: {bad}")
        else:
            return _succeeded(run, identity, attempt.result)
    if isinstance(error, TaskFailure):
        name, cause = error.error, error.cause
    else:
        # Not an error the integration meant to report: a crash, reported as the task failing.
        name = STATES_TASK_FAILED
        cause = "".join(traceback.format_exception(error)).strip()[-_MAX_CAUSE:]
    run.history.add("TaskFailed", {**identity, "error": name, "cause": cause})
    raise StatesError(name, cause)
