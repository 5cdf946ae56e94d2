"""Step Functions calling Step Functions: the `arn:aws:states:::states:startExecution` task
integration (request-response, `.sync` and `.sync:2`), played by the local runtime's own
executions.

Step Functions guide, "Start a new AWS Step Functions state machine from a running execution"
(connect-stepfunctions): StartExecution's response is `{ExecutionArn, StartDate}` (also what
`.waitForTaskToken` records before the task waits for its token); with `.sync`
and `.sync:2` the task waits for the child and returns DescribeExecution's answer (`Output` as a
JSON string with `.sync`, as JSON with `.sync:2`; `Input` likewise); a child that did not succeed
fails the task with `States.TaskFailed` and that answer as its cause. The runtime links the child
to its parent: the `AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID` of the input when given (as the
guide recommends), else the execution whose task started it.

The runtime behind it is a `ChildExecutions` (the engine): this module knows no database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from lake.asl import TaskFailure, TaskRequest

START_EXECUTION = "arn:aws:states:::states:startExecution"
START_EXECUTION_SYNC = "arn:aws:states:::states:startExecution.sync"
START_EXECUTION_SYNC_2 = "arn:aws:states:::states:startExecution.sync:2"
START_EXECUTION_CALLBACK = "arn:aws:states:::states:startExecution.waitForTaskToken"
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


class ChildExecutionError(Exception):
    """StartExecution refused; `code` is the Step Functions API's error name
    (StateMachineDoesNotExist, ExecutionAlreadyExists, InvalidExecutionInput, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ChildExecutions(Protocol):
    """What the integration needs of a runtime."""

    def start_child(
        self, state_machine_arn: str, input: Any, name: str | None, parent_arn: str
    ) -> dict[str, Any]:
        """StartExecution: `{"executionArn", "startDate"}` (startDate in epoch milliseconds);
        raises ChildExecutionError."""
        ...

    def wait_for_child(self, execution_arn: str) -> dict[str, Any]:
        """Block until the execution ends (no polling); DescribeExecution's answer (camelCase,
        `input`/`output` as JSON text, dates in epoch milliseconds)."""
        ...


def _described(execution: Mapping[str, Any], parse_json: bool) -> dict[str, Any]:
    """DescribeExecution's answer as the integration returns it (PascalCase, as the service
    integrations' responses are)."""

    def data(text: Any) -> Any:
        return json.loads(text) if parse_json and isinstance(text, str) else text

    answer: dict[str, Any] = {
        "ExecutionArn": execution["executionArn"],
        "Input": data(execution.get("input")),
        "InputDetails": {"Included": True},
        "Name": execution["name"],
        "StartDate": execution["startDate"],
        "StateMachineArn": execution["stateMachineArn"],
        "Status": execution["status"],
        "StopDate": execution.get("stopDate"),
    }
    if execution["status"] == "SUCCEEDED":
        answer["Output"] = data(execution.get("output"))
        answer["OutputDetails"] = {"Included": True}
    else:
        for field in ("error", "cause"):
            if execution.get(field) is not None:
                answer[field.capitalize()] = execution[field]
    return answer


class StartExecution:
    """The local `states:startExecution` integration for one pattern ("", ".sync", ".sync:2")."""

    def __init__(self, runtime: ChildExecutions, pattern: str = ".sync:2") -> None:
        if pattern not in ("", ".sync", ".sync:2"):
            raise ValueError(f"startExecution has no {pattern!r} pattern")
        self.runtime = runtime
        self.pattern = pattern

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        params = request.parameters
        child_input = params.get("Input", {})
        if isinstance(child_input, str):  # Input may be given as JSON text
            try:
                child_input = json.loads(child_input)
            except ValueError as e:
                raise TaskFailure(
                    "StepFunctions.InvalidExecutionInputException", f"Invalid JSON input: {e}"
                ) from e
        parent = request.context.get("Execution", {}).get("Id", "")
        if isinstance(child_input, dict) and isinstance(child_input.get(STARTED_BY), str):
            parent = child_input[STARTED_BY]
        try:
            started = self.runtime.start_child(
                params.get("StateMachineArn", ""), child_input, params.get("Name"), parent
            )
        except ChildExecutionError as e:
            raise TaskFailure(f"StepFunctions.{e.code}Exception", str(e)) from e
        response = {"ExecutionArn": started["executionArn"], "StartDate": started["startDate"]}
        if not self.pattern:
            return response
        request.submitted(response)
        execution = self.runtime.wait_for_child(started["executionArn"])
        answer = _described(execution, parse_json=self.pattern == ".sync:2")
        if execution["status"] != "SUCCEEDED":
            raise TaskFailure("States.TaskFailed", json.dumps(answer, separators=(",", ":")))
        return answer
