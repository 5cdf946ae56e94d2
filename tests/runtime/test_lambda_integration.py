"""`lambda:invoke` played locally: the integration's response shape, Lambda's error reporting,
and the handler's powertools JSON logs in the execution's log file."""

from __future__ import annotations

import json

import pytest

from lake.asl import TaskFailure, TaskRequest
from lake.aws.lambda_ import LambdaInvoke
from lake.aws.logs import function_logger
from lake.home import LakeHome

logger = function_logger("lambda-integration-test")


class FileRejected(Exception):
    pass


def handler(event, context):
    logger.info("validating", extra={"key": event["key"], "function": context.function_name})
    if event["key"].endswith(".bad"):
        raise FileRejected(f"{event['key']} has no header")
    return {"key": event["key"], "remaining_ms": context.get_remaining_time_in_millis()}


def _request(key: str) -> TaskRequest:
    return TaskRequest(
        resource="arn:aws:states:::lambda:invoke",
        parameters={
            "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:validate",
            "Payload": {"key": key},
        },
        state_name="Validate",
        context={"Execution": {"Name": "exec-1"}},
        timeout_seconds=300,
    )


@pytest.fixture
def invoke(tmp_path):
    home = LakeHome(tmp_path).ensure()
    return home, LambdaInvoke(home, {"validate": handler})


def test_the_payload_comes_back_in_the_integrations_response_shape(invoke):
    _, call = invoke
    response = call(_request("travel_times/bogota/x.csv"))
    assert response["StatusCode"] == 200
    assert response["Payload"]["key"] == "travel_times/bogota/x.csv"
    assert 0 < response["Payload"]["remaining_ms"] <= 300_000


def test_a_raising_handler_fails_the_task_as_step_functions_reports_lambda_errors(invoke):
    _, call = invoke
    with pytest.raises(TaskFailure) as failure:
        call(_request("travel_times/bogota/x.bad"))
    assert failure.value.error == "FileRejected"
    cause = json.loads(failure.value.cause)
    assert cause["errorType"] == "FileRejected"
    assert cause["errorMessage"] == "travel_times/bogota/x.bad has no header"
    assert cause["requestId"] and cause["stackTrace"]


def test_the_handlers_json_logs_go_to_the_executions_log(invoke, capsys):
    home, call = invoke
    call(_request("travel_times/bogota/x.csv"))
    lines = home.execution_log("exec-1").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [r["message"] for r in records] == ["validating"]
    assert records[0]["key"] == "travel_times/bogota/x.csv"
    assert lines[0].startswith("START RequestId:") and lines[-1].startswith("REPORT RequestId:")
    assert "validating" not in capsys.readouterr().out  # not on the console


def test_an_unknown_function_is_resource_not_found(invoke):
    _, call = invoke
    request = _request("k")
    request.parameters["FunctionName"] = "other"
    with pytest.raises(TaskFailure) as failure:
        call(request)
    assert failure.value.error == "Lambda.ResourceNotFoundException"
