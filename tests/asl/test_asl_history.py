"""History events in GetExecutionHistory's shape: types in order, ids, details."""

from __future__ import annotations

import json

from asl_support import GLUE, LAMBDA, Script, definition, details, failing, run, task, types

S3_GET = "arn:aws:states:::aws-sdk:s3:getObject"


def _two_tasks():
    return definition({"First": task(Next="Second"), "Second": task(GLUE)})


def test_a_successful_execution_records_aws_event_sequence():
    events = []
    result = run(
        _two_tasks(), {LAMBDA: Script(1), GLUE: Script(2)}, {"in": 0}, on_event=events.append
    )
    task_events = [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    assert types(result) == ["ExecutionStarted", *task_events, *task_events, "ExecutionSucceeded"]
    assert [e["id"] for e in result.events] == list(range(1, 13))
    assert [e["previousEventId"] for e in result.events] == list(range(0, 12))
    assert events == result.events  # on_event saw every event, in order


def test_a_failed_execution_ends_with_task_failed_then_execution_failed():
    result = run(
        _two_tasks(), {LAMBDA: Script(1), GLUE: Script(failing("States.TaskFailed", "{}"))}
    )
    assert types(result)[-4:] == ["TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed"]
    assert details(result, "TaskFailed") == [
        {
            "resourceType": "glue",
            "resource": "startJobRun.sync",
            "error": "States.TaskFailed",
            "cause": "{}",
        }
    ]


def test_event_details_carry_json_strings_and_resource_names():
    machine = definition({"Read": task(S3_GET, Parameters={"Bucket": "b", "Key.$": "$.key"})})
    result = run(machine, {S3_GET: Script({"Body": "x"})}, {"key": "k"})
    event = result.events[0]
    assert set(event) == {
        "timestamp",
        "type",
        "id",
        "previousEventId",
        "executionStartedEventDetails",
    }
    started = event["executionStartedEventDetails"]
    assert json.loads(started["input"]) == {"key": "k"} and started["inputDetails"] == {
        "truncated": False
    }
    assert started["roleArn"].startswith("arn:aws:iam::")
    assert details(result, "TaskStateEntered") == [
        {"name": "Read", "input": '{"key":"k"}', "inputDetails": {"truncated": False}}
    ]
    assert details(result, "TaskScheduled") == [
        {
            "resourceType": "aws-sdk:s3",
            "resource": "getObject",
            "region": "eu-west-1",
            "parameters": '{"Bucket":"b","Key":"k"}',
        }
    ]
    assert details(result, "TaskStarted") == [
        {"resourceType": "aws-sdk:s3", "resource": "getObject"}
    ]
    assert details(result, "TaskSucceeded")[0]["output"] == '{"Body":"x"}'
    assert details(result, "TaskStateExited")[0]["output"] == '{"Body":"x"}'
    assert details(result, "ExecutionSucceeded") == [
        {"output": '{"Body":"x"}', "outputDetails": {"truncated": False}}
    ]


def test_a_sync_integration_can_record_task_submitted():
    def start_and_wait(request):
        request.submitted({"JobRunId": "jr_1"})
        return {"Id": "jr_1", "JobRunState": "SUCCEEDED"}

    result = run(definition({"Transform": task(GLUE)}), {GLUE: Script(start_and_wait)})
    assert types(result)[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    assert details(result, "TaskSubmitted")[0]["output"] == '{"JobRunId":"jr_1"}'


def test_timestamps_are_iso_8601():
    from datetime import datetime

    result = run(_two_tasks(), {LAMBDA: Script(1), GLUE: Script(2)})
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in result.events]
    assert all(stamp.tzinfo is not None for stamp in stamps)
    assert stamps == sorted(stamps)
