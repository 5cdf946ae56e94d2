"""`arn:aws:states:::states:startExecution(.sync, .sync:2)` in the local runtime: the child is a
normal execution of the named state machine, linked to its parent, waited for without polling;
the answer is DescribeExecution's as each pattern returns it, a failed child fails the task with
States.TaskFailed (Step Functions guide, "Start a new AWS Step Functions state machine from a
running execution")."""

from __future__ import annotations

import json

import pytest

from lake.asl import TaskFailure, TaskRequest
from lake.aws.step_functions import START_EXECUTION, START_EXECUTION_SYNC, START_EXECUTION_SYNC_2
from lake.home import LakeHome
from lake.runtime.engine import Engine

PARENT = "arn:aws:states:us-east-1:000000000000:execution:parent-machine:p-1"


def _child_definition(tmp_path, fail: bool = False):
    """A one-state 'ingest' state machine: echo its input's detail, or fail."""
    state = (
        {"Type": "Fail", "Error": "Nope", "Cause": "it had to fail"}
        if fail
        else {"Type": "Pass", "Parameters": {"got.$": "$.detail"}, "End": True}
    )
    path = tmp_path / "child.asl.json"
    path.write_text(json.dumps({"StartAt": "Only", "States": {"Only": state}}))
    return path


def _request(parameters: dict) -> tuple[TaskRequest, list]:
    submitted: list = []
    return (
        TaskRequest(
            resource="arn:aws:states:::states:startExecution.sync:2",
            parameters=parameters,
            state_name="Ingest",
            context={"Execution": {"Id": PARENT}},
            timeout_seconds=None,
            submitted=submitted.append,
        ),
        submitted,
    )


EVENT = {
    "source": "aws.s3",
    "detail-type": "Object Created",
    "detail": {
        "bucket": {"name": "movement-lake-raw"},
        "object": {"key": "travel_times/a/b c.csv"},
    },
}


def integration(engine: Engine, resource: str):
    """The engine's own integration for `resource` (every state machine has the same)."""
    return engine.executions.integrations[resource]


@pytest.fixture
def engine(tmp_path):
    home = LakeHome(tmp_path / "home")
    with Engine(home, definition_file=_child_definition(tmp_path)) as engine:
        yield engine


def test_sync_2_starts_a_linked_child_waits_and_returns_its_output_as_json(engine):
    request, submitted = _request(
        {"StateMachineArn": engine.home.state_machine_arn, "Input": EVENT}
    )
    answer = integration(engine, START_EXECUTION_SYNC_2)(request)
    assert answer["Status"] == "SUCCEEDED"
    assert answer["Output"] == {"got": EVENT["detail"]}
    assert answer["Input"] == EVENT and answer["InputDetails"] == {"Included": True}
    assert answer["StateMachineArn"] == engine.home.state_machine_arn
    assert isinstance(answer["StartDate"], int) and answer["StopDate"] >= answer["StartDate"]
    # StartExecution's own answer went to TaskSubmitted first
    assert submitted == [{"ExecutionArn": answer["ExecutionArn"], "StartDate": answer["StartDate"]}]
    # the child is a normal execution, linked to its parent and recorded after its file
    child = engine.store.find_execution(answer["ExecutionArn"])
    assert child.parent_arn == PARENT
    assert child.source_key == "travel_times/a/b c.csv"  # no such object: the key as given
    assert child.name.startswith("a-b-c-")


def test_sync_returns_the_output_as_json_text_and_request_response_does_not_wait(engine):
    child_input = {"detail": {"x": 1}}
    request, _ = _request({"StateMachineArn": engine.home.state_machine_arn, "Input": child_input})
    answer = integration(engine, START_EXECUTION_SYNC)(request)
    assert answer["Output"] == '{"got":{"x":1}}'
    assert answer["Input"] == '{"detail":{"x":1}}'
    started = integration(engine, START_EXECUTION)(request)
    assert set(started) == {"ExecutionArn", "StartDate"}


def test_a_child_that_fails_fails_the_task_with_its_description(tmp_path):
    home = LakeHome(tmp_path / "home")
    with Engine(home, definition_file=_child_definition(tmp_path, fail=True)) as engine:
        request, _ = _request({"StateMachineArn": home.state_machine_arn, "Input": {}})
        with pytest.raises(TaskFailure) as failed:
            integration(engine, START_EXECUTION_SYNC_2)(request)
    assert failed.value.error == "States.TaskFailed"
    described = json.loads(failed.value.cause)
    assert (described["Status"], described["Error"], described["Cause"]) == (
        "FAILED",
        "Nope",
        "it had to fail",
    )
    assert "Output" not in described


def test_an_unknown_state_machine_or_a_taken_name_fail_with_the_apis_errors(engine):
    starter = integration(engine, START_EXECUTION_SYNC_2)
    request, _ = _request({"StateMachineArn": "arn:aws:states:us-east-1:0:stateMachine:nope"})
    with pytest.raises(TaskFailure) as unknown:
        starter(request)
    assert unknown.value.error == "StepFunctions.StateMachineDoesNotExistException"
    request, _ = _request(
        {"StateMachineArn": engine.home.state_machine_arn, "Input": EVENT, "Name": "once"}
    )
    starter(request)
    with pytest.raises(TaskFailure) as taken:
        starter(request)
    assert taken.value.error == "StepFunctions.ExecutionAlreadyExistsException"
