"""Wait for Callback (.waitForTaskToken), heartbeats, TimeoutSecondsPath and
states:startExecution (.sync, .sync:2)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from asl_support import EXECUTION_ARN, Script, definition, details, run, task, types

from lake.asl import UnsupportedDefinition
from lake.asl.task_tokens import (
    InvalidOutput,
    InvalidToken,
    TaskDoesNotExist,
    TaskTimedOut,
    TaskTokens,
)

SQS_CALLBACK = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
START_SYNC_2 = "arn:aws:states:::states:startExecution.sync:2"
START_SYNC = "arn:aws:states:::states:startExecution.sync"


def _callback_task(**fields):
    return task(
        SQS_CALLBACK,
        Parameters={"QueueUrl": "q", "MessageBody": {"TaskToken.$": "$$.Task.Token"}},
        **fields,
    )


class Worker:
    """Plays the outside world: receives the token from the queue, later calls back."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.ready = threading.Event()

    def send_message(self, request):
        self.token = request.parameters["MessageBody"]["TaskToken"]
        assert request.context["Task"]["Token"] == self.token
        self.ready.set()
        return {"MessageId": "m-1"}

    def later(self, action) -> threading.Thread:
        def act():
            self.ready.wait(5)
            action(self.token)

        thread = threading.Thread(target=act)
        thread.start()
        return thread


def test_a_callback_task_waits_for_send_task_success_from_another_thread():
    """Step Functions guide, "Wait for a Callback with Task Token": the integration's response
    is recorded (TaskSubmitted), then the task waits until SendTaskSuccess with ``$$.Task.Token``
    arrives; its output is the task's result. The registry is shared, so a second executor (or
    a CLI) holding the same TaskTokens completes the token."""
    tokens = TaskTokens()
    worker = Worker()
    thread = worker.later(lambda token: tokens.send_success(token, '{"done": true}'))
    result = run(
        definition({"Ask": _callback_task()}),
        {SQS_CALLBACK: worker.send_message},
        task_tokens=tokens,
    )
    thread.join()
    assert result.output == {"done": True}
    assert types(result) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert details(result, "TaskSubmitted")[0]["output"] == '{"MessageId":"m-1"}'
    assert details(result, "TaskScheduled")[0]["resource"] == "sendMessage.waitForTaskToken"
    scheduled = json.loads(details(result, "TaskScheduled")[0]["parameters"])
    assert scheduled["MessageBody"]["TaskToken"] == worker.token
    with pytest.raises(TaskDoesNotExist):
        tokens.send_success(worker.token, "{}")  # the task is over


def test_send_task_failure_fails_the_task_with_its_error_and_cause():
    """Step Functions API reference, SendTaskFailure: the task fails with the given error and
    cause; Retry and Catch apply as to any task failure."""
    tokens = TaskTokens()
    worker = Worker()
    thread = worker.later(lambda token: tokens.send_failure(token, "Review.Rejected", "no"))
    machine = definition(
        {
            "Ask": _callback_task(Catch=[{"ErrorEquals": ["Review.Rejected"], "Next": "No"}]),
            "No": {"Type": "Pass", "End": True},
        }
    )
    result = run(machine, {SQS_CALLBACK: worker.send_message}, task_tokens=tokens)
    thread.join()
    assert result.output == {"Error": "Review.Rejected", "Cause": "no"}
    assert details(result, "TaskFailed")[0]["error"] == "Review.Rejected"


def test_a_missed_heartbeat_times_the_task_out():
    """Step Functions guide, "Task state" (HeartbeatSeconds) and the history AWS records: with
    no SendTaskHeartbeat within HeartbeatSeconds the task fails with a TaskTimedOut event
    (AWS records the error States.Timeout there); a late SendTaskSuccess gets TaskTimedOut."""
    tokens = TaskTokens()
    worker = Worker()
    machine = definition({"Ask": _callback_task(HeartbeatSeconds=1, TimeoutSeconds=600)})
    result = run(
        machine, {SQS_CALLBACK: worker.send_message}, task_tokens=tokens, timeout_scale=0.02
    )
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert details(result, "TaskScheduled")[0]["heartbeatInSeconds"] == 1
    assert details(result, "TaskScheduled")[0]["timeoutInSeconds"] == 600
    assert types(result)[-3:] == ["TaskSubmitted", "TaskTimedOut", "ExecutionFailed"]
    with pytest.raises(TaskTimedOut):
        tokens.send_success(worker.token, "{}")


def test_heartbeats_keep_a_callback_task_alive():
    """Step Functions API reference, SendTaskHeartbeat: each heartbeat restarts the
    HeartbeatSeconds clock."""
    tokens = TaskTokens()
    worker = Worker()

    def beat_then_succeed(token):
        for _ in range(6):
            time.sleep(0.01)
            tokens.send_heartbeat(token)
        tokens.send_success(token, '"finished"')

    thread = worker.later(beat_then_succeed)
    machine = definition({"Ask": _callback_task(HeartbeatSeconds=1)})
    result = run(
        machine, {SQS_CALLBACK: worker.send_message}, task_tokens=tokens, timeout_scale=0.03
    )  # a 30 ms heartbeat window; the work takes ~60 ms
    thread.join()
    assert result.output == "finished"


def test_token_errors_are_shaped_like_the_step_functions_api():
    """Step Functions API reference, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat:
    InvalidToken, TaskDoesNotExist, InvalidOutput."""
    tokens = TaskTokens()
    with pytest.raises(InvalidToken):
        tokens.send_success("not a token!", "{}")
    with pytest.raises(TaskDoesNotExist):
        tokens.send_heartbeat("A" * 64)
    token = tokens.issue(EXECUTION_ARN, "Ask")
    with pytest.raises(InvalidOutput):
        tokens.send_success(token, "{not json")
    assert tokens.waiting() == [
        {"taskToken": token, "executionArn": EXECUTION_ARN, "stateName": "Ask"}
    ]


def test_timeout_seconds_path_reads_the_timeout_from_the_input():
    """Step Functions guide, "Task state" (TimeoutSecondsPath): the timeout comes from the
    state input; it must be a positive integer."""
    machine = definition({"Call": task(TimeoutSecondsPath="$.limit")})
    result = run(machine, {"arn:aws:states:::lambda:invoke": Script("ok")}, {"limit": 30})
    assert details(result, "TaskScheduled")[0]["timeoutInSeconds"] == 30
    bad = run(machine, {"arn:aws:states:::lambda:invoke": Script("ok")}, {"limit": 0})
    assert bad.error == "States.Runtime"


def test_heartbeat_must_be_shorter_than_the_timeout():
    """Step Functions guide, "Task state": HeartbeatSeconds must be smaller than
    TimeoutSeconds."""
    with pytest.raises(UnsupportedDefinition, match="smaller than 'TimeoutSeconds'"):
        definition({"Ask": _callback_task(HeartbeatSeconds=10, TimeoutSeconds=10)})


@pytest.mark.parametrize("resource", [START_SYNC_2, START_SYNC])
def test_start_execution_sync_runs_as_a_task_integration_with_the_parent_context(resource):
    """Step Functions guide, "Start a new AWS Step Functions state machine from a running
    execution": startExecution.sync and .sync:2 wait for the child; the parent's
    ``$$.Execution.Id`` is passed (as AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID) to link the
    child; the history shows TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded."""

    def start_child(request):
        assert request.context["Execution"]["Id"] == EXECUTION_ARN
        started_by = request.parameters["Input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"]
        request.submitted({"ExecutionArn": "child-arn", "StartDate": 1})
        output = {"parent": started_by}
        # .sync:2 returns Output as parsed JSON, .sync as a JSON string
        return {
            "ExecutionArn": "child-arn",
            "Status": "SUCCEEDED",
            "Output": output if resource.endswith(":2") else json.dumps(output),
        }

    machine = definition(
        {
            "Child": task(
                resource,
                Parameters={
                    "StateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:ingest",
                    "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
                },
            )
        }
    )
    result = run(machine, {resource: Script(start_child)})
    assert types(result)[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    assert details(result, "TaskStarted")[0] == {
        "resourceType": "states",
        "resource": resource.split("states:::states:")[1],
    }
    output = result.output["Output"]
    parent = output["parent"] if isinstance(output, dict) else json.loads(output)["parent"]
    assert parent == EXECUTION_ARN
