"""Loading a definition: substitutions, validation, and refusing what is not implemented."""

from __future__ import annotations

import json

import pytest
from asl_support import LAMBDA, definition, task

from lake.asl import UnsupportedDefinition, load_definition, split_resource


def _refused(states: dict, **top) -> str:
    with pytest.raises(UnsupportedDefinition) as refused:
        definition(states, **top)
    return str(refused.value)


def test_placeholders_are_substituted_and_a_missing_one_is_an_error(tmp_path):
    source = tmp_path / "machine.asl.json"
    source.write_text(
        json.dumps(
            {
                "StartAt": "Only",
                "States": {"Only": {"Type": "Pass", "Result": "${Greeting}, ${Name}", "End": True}},
            }
        )
    )
    loaded = load_definition(source, {"Greeting": "Hello", "Name": 'the "lake"'})
    assert loaded.states["Only"]["Result"] == 'Hello, the "lake"'
    with pytest.raises(UnsupportedDefinition, match=r"\$\{Name\}"):
        load_definition(source, {"Greeting": "Hello"})


def test_an_unsupported_state_type_is_refused_naming_the_state():
    message = _refused({"Fan": {"Type": "Activity", "End": True}})
    assert message == "state 'Fan': type 'Activity' is not supported by the local runtime"


def test_an_unsupported_field_is_refused_naming_the_state_and_field():
    message = _refused({"Work": task(Credentials={"RoleArn": "r"})})
    assert (
        message == "state 'Work': field 'Credentials' (Task) is not supported by the local runtime"
    )
    assert "field 'Assign' (Pass)" in _refused(
        {"P": {"Type": "Pass", "Assign": {"x": 1}, "End": True}}
    )


def test_jsonata_is_refused():
    assert "QueryLanguage 'JSONata'" in _refused(
        {"P": {"Type": "Pass", "End": True}}, QueryLanguage="JSONata"
    )
    assert "QueryLanguage 'JSONata'" in _refused(
        {"P": {"Type": "Pass", "QueryLanguage": "JSONata", "End": True}}
    )


def test_an_unknown_intrinsic_is_refused():
    message = _refused({"Work": task(Parameters={"id.$": "States.Nope()"})})
    assert message.startswith("state 'Work': field 'Parameters': field 'id.$':")
    assert "States.Nope" in message


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ("arn:aws:lambda:eu-west-1:123456789012:function:f", "not supported"),
        ("arn:aws:states:eu-west-1:123456789012:activity:a", "activities are not supported"),
        ("arn:aws:states:::dynamodb:query", "'dynamodb:query' is not an optimized integration"),
        ("arn:aws:states:::glue:startJobRun.waitForTaskToken", "does not support"),
        ("arn:aws:states:::aws-sdk:s3:getObject.sync", "support no '.sync'"),
        ("arn:aws:states:::nosuchservice:doIt", "not a Step Functions optimized integration"),
        ("arn:aws:states:::s3:getObject", "not a Step Functions optimized integration"),
    ],
)
def test_unsupported_resources_are_refused(resource, reason):
    """Step Functions guide, "Integrating optimized services with Step Functions" and each
    service's page: only the listed actions and patterns of an optimized integration load;
    DynamoDB's optimized actions are getItem, putItem, updateItem and deleteItem, so
    ``dynamodb:query`` is refused (AWS refuses it too; Query goes through aws-sdk:dynamodb)."""
    assert reason in _refused({"Work": task(resource)})


def test_structural_errors_are_refused():
    assert "'Next' names no state" in _refused({"A": {"Type": "Pass", "Next": "Nowhere"}})
    assert "exactly one of 'Next' and 'End: true'" in _refused({"A": {"Type": "Pass"}})
    assert "not reachable" in _refused(
        {"A": {"Type": "Pass", "End": True}, "B": {"Type": "Succeed"}}
    )
    assert "'StartAt' names no state" in _refused({"A": {"Type": "Succeed"}}, StartAt="B")


def test_states_all_must_be_alone_and_last():
    retry = [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Boom"]}]
    assert "'States.ALL' must appear alone" in _refused({"Work": task(Retry=retry)})
    catch = [{"ErrorEquals": ["States.ALL", "Boom"], "Next": "Work"}]
    assert "'States.ALL' must appear alone" in _refused({"Work": task(Catch=catch)})


def test_retrier_fields_are_checked():
    assert "'JitterStrategy' must be FULL or NONE" in _refused(
        {"Work": task(Retry=[{"ErrorEquals": ["Boom"], "JitterStrategy": "HALF"}])}
    )
    assert "'BackoffRate' must be a number >= 1.0" in _refused(
        {"Work": task(Retry=[{"ErrorEquals": ["Boom"], "BackoffRate": 0.5}])}
    )
    assert "'States.Tiemout' is not an error name" in _refused(
        {"Work": task(Retry=[{"ErrorEquals": ["States.Tiemout"]}])}
    )


def test_an_unsupported_path_is_refused_at_load():
    assert "does not support" in _refused({"Work": task(InputPath="$.a.length()")})
    # Step Functions guide, "Reference paths": ResultPath names one node, no wildcard
    assert "not a reference path" in _refused({"Work": task(ResultPath="$.a[*]")})


def test_resource_names_as_history_events_show_them():
    assert split_resource(LAMBDA) == ("lambda", "invoke")
    assert split_resource("arn:aws:states:::glue:startJobRun.sync") == ("glue", "startJobRun.sync")
    assert split_resource("arn:aws:states:::aws-sdk:s3:getObject") == ("aws-sdk:s3", "getObject")
    assert split_resource("arn:aws:states:::athena:startQueryExecution.sync") == (
        "athena",
        "startQueryExecution.sync",
    )
