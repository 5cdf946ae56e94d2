"""The runtime's events have exactly the shape AWS delivers (reference payloads in tests/events)."""

from __future__ import annotations

import datetime as dt
import re

from conftest import load_event

from contract.events import alert_rule_pattern, object_created_rule_pattern
from lake.aws.event_patterns import matches
from lake.aws.events import execution_status_change_event, object_created_event


def _shape(value):
    """Keys and JSON types, recursively (null is its own type)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_object_created_event_has_the_fields_and_types_eventbridge_delivers():
    # GIVEN the AWS example WHEN the runtime makes the event for a put THEN same shape
    reference = load_event("s3_object_created")
    event = object_created_event(
        "movement-lake-raw",
        "travel_times/bogota/2019-q2.csv",
        184662,
        '"4e68adba0abe2dc8"',
        version_id="IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
    )
    assert _shape(event) == _shape(reference)
    assert event["detail"]["object"]["etag"] == "4e68adba0abe2dc8"  # bare, as S3 sends it
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["resources"] == ["arn:aws:s3:::movement-lake-raw"]
    assert matches(object_created_rule_pattern("movement-lake-raw"), event)


def test_sequencers_grow_for_successive_events():
    first = object_created_event("b", "k.csv", 1, "e")["detail"]["object"]["sequencer"]
    second = object_created_event("b", "k.csv", 1, "e")["detail"]["object"]["sequencer"]
    assert int(second, 16) > int(first, 16)


def test_execution_failed_event_has_the_fields_and_types_step_functions_sends():
    reference = load_event("sfn_status_transform_failed")
    detail = reference["detail"]
    start = dt.datetime.fromtimestamp(detail["startDate"] / 1000, dt.UTC)
    stop = dt.datetime.fromtimestamp(detail["stopDate"] / 1000, dt.UTC)
    event = execution_status_change_event(
        execution_arn=detail["executionArn"],
        state_machine_arn=detail["stateMachineArn"],
        name=detail["name"],
        status="FAILED",
        start_date=start,
        stop_date=stop,
        input="{}",
        error="States.TaskFailed",
        cause=detail["cause"],
    )
    assert _shape(event) == _shape(reference)
    assert (event["detail"]["startDate"], event["detail"]["stopDate"]) == (
        detail["startDate"],
        detail["stopDate"],
    )
    assert event["detail"]["redriveStatus"] == "REDRIVABLE"
    assert matches(alert_rule_pattern(detail["stateMachineArn"]), event)


def test_a_succeeded_execution_does_not_reach_the_alert():
    reference = load_event("sfn_status_transform_failed")["detail"]
    now = dt.datetime.now(dt.UTC)
    event = execution_status_change_event(
        execution_arn=reference["executionArn"],
        state_machine_arn=reference["stateMachineArn"],
        name="x",
        status="SUCCEEDED",
        start_date=now,
        stop_date=now,
        input="{}",
        output="{}",
    )
    assert not matches(alert_rule_pattern(reference["stateMachineArn"]), event)
