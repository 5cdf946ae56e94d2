"""A field given directly or by its <Field>Path (Amazon States Language: "Task state" for
TimeoutSecondsPath/HeartbeatSecondsPath, Step Functions guide "Map state" for MaxConcurrencyPath
and the other counts): one reading, each caller with AWS's own rule and wording."""

from __future__ import annotations

import pytest

from lake.asl.errors import StatesError
from lake.asl.path_fields import field_value

POSITIVE = {
    "valid": lambda value: isinstance(value, int) and value >= 1,
    "refusal": "The {field}Path parameter does not reference a valid positive integer: {value}",
}


def test_a_field_given_directly_is_taken_as_it_is():
    assert field_value({"TimeoutSeconds": 30}, "TimeoutSeconds", {}, {}, **POSITIVE) == 30


def test_a_field_given_by_path_is_read_from_the_input_or_the_context():
    state = {"TimeoutSecondsPath": "$.limit"}
    assert field_value(state, "TimeoutSeconds", {"limit": 5}, {}, **POSITIVE) == 5
    by_context = {"TimeoutSecondsPath": "$$.Execution.Input.limit"}
    context = {"Execution": {"Input": {"limit": 7}}}
    assert field_value(by_context, "TimeoutSeconds", {}, context, **POSITIVE) == 7


def test_a_field_given_neither_way_is_none():
    assert field_value({}, "HeartbeatSeconds", {"x": 1}, {}, **POSITIVE) is None


@pytest.mark.parametrize("value", [0, "5", True, 1.5])
def test_a_path_to_a_value_the_rule_refuses_is_a_runtime_error_in_the_callers_words(value):
    with pytest.raises(StatesError) as refused:
        field_value({"TimeoutSecondsPath": "$.t"}, "TimeoutSeconds", {"t": value}, {}, **POSITIVE)
    assert refused.value.error == "States.Runtime"
    shown = {0: "0", "5": '"5"', True: "true", 1.5: "1.5"}[value]
    assert refused.value.cause == (
        f"The TimeoutSecondsPath parameter does not reference a valid positive integer: {shown}"
    )


def test_a_path_that_selects_nothing_is_a_runtime_error():
    with pytest.raises(StatesError) as refused:
        field_value({"MaxItemsPath": "$.missing"}, "MaxItems", {}, {}, **POSITIVE)
    assert refused.value.error == "States.Runtime"
