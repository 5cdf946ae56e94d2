"""Choice rules, per the Step Functions guide ("Choice workflow state")."""

from __future__ import annotations

import pytest
from asl_support import definition, details, run


def _choose(rule: dict, data, default: bool = True):
    """Run a Choice with one rule; return the name of the state it went to."""
    states = {
        "Decide": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]},
        "Yes": {"Type": "Pass", "End": True},
    }
    if default:
        states["Decide"]["Default"] = "No"
        states["No"] = {"Type": "Pass", "End": True}
    result = run(definition(states), {}, data)
    entered = details(result, "PassStateEntered")
    return entered[0]["name"] if entered else result


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"Variable": "$.v", "StringEquals": "a"}, {"v": "a"}, "Yes"),
        ({"Variable": "$.v", "StringEquals": "1"}, {"v": 1}, "No"),  # wrong type: no match
        ({"Variable": "$.v", "StringLessThan": "b"}, {"v": "a"}, "Yes"),
        ({"Variable": "$.v", "StringGreaterThanEquals": "b"}, {"v": "b"}, "Yes"),
        ({"Variable": "$.v", "StringMatches": "log-*.txt"}, {"v": "log-2017.txt"}, "Yes"),
        ({"Variable": "$.v", "StringMatches": "log-*.txt"}, {"v": "log-2017.csv"}, "No"),
        ({"Variable": "$.v", "StringMatches": r"a\*b"}, {"v": "a*b"}, "Yes"),
        ({"Variable": "$.v", "StringMatches": r"a\*b"}, {"v": "axxb"}, "No"),
        ({"Variable": "$.v", "NumericEquals": 2}, {"v": 2.0}, "Yes"),
        ({"Variable": "$.v", "NumericGreaterThan": 2}, {"v": 3}, "Yes"),
        (
            {"Variable": "$.v", "NumericLessThanEquals": 2},
            {"v": True},
            "No",
        ),  # a boolean is no number
        ({"Variable": "$.v", "BooleanEquals": True}, {"v": True}, "Yes"),
        ({"Variable": "$.v", "BooleanEquals": True}, {"v": 1}, "No"),
        (
            {"Variable": "$.v", "TimestampLessThan": "2016-03-14T01:59:00Z"},
            {"v": "2016-03-14T00:59:00-02:00"},  # 02:59Z: later, despite the smaller text
            "No",
        ),
        (
            {"Variable": "$.v", "TimestampEquals": "2016-03-14T01:59:00Z"},
            {"v": "2016-03-14T01:59:00.000Z"},
            "Yes",
        ),
        ({"Variable": "$.v", "NumericEqualsPath": "$.w"}, {"v": 5, "w": 5}, "Yes"),
        ({"Variable": "$.v", "StringEqualsPath": "$.w"}, {"v": "x", "w": "y"}, "No"),
        ({"Variable": "$.v", "IsNull": True}, {"v": None}, "Yes"),
        ({"Variable": "$.v", "IsPresent": False}, {}, "Yes"),
        ({"Variable": "$.v", "IsPresent": True}, {"v": None}, "Yes"),
        ({"Variable": "$.v", "IsNumeric": True}, {"v": "3"}, "No"),
        ({"Variable": "$.v", "IsString": True}, {"v": "3"}, "Yes"),
        ({"Variable": "$.v", "IsBoolean": False}, {"v": 0}, "Yes"),
        ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2016-03-14T01:59:00Z"}, "Yes"),
        ({"Variable": "$.v", "IsTimestamp": True}, {"v": "2016-03-14"}, "No"),
    ],
)
def test_comparison_operators(rule, data, expected):
    assert _choose(rule, data) == expected


def test_and_or_not_combine_rules():
    # The guide's example: a value in the range 1 to 3, or not "foo".
    rule = {
        "Or": [
            {
                "And": [
                    {"Variable": "$.value", "NumericGreaterThanEquals": 1},
                    {"Variable": "$.value", "NumericLessThan": 3},
                ]
            },
            {"Not": {"Variable": "$.type", "StringEquals": "foo"}},
        ]
    }
    assert _choose(rule, {"value": 2, "type": "foo"}) == "Yes"
    assert _choose(rule, {"value": 5, "type": "foo"}) == "No"
    assert _choose(rule, {"value": 5, "type": "bar"}) == "Yes"


def test_rules_are_tried_in_order():
    machine = definition(
        {
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                    {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Small"},
                ],
            },
            "Big": {"Type": "Pass", "End": True},
            "Small": {"Type": "Pass", "End": True},
        }
    )
    entered = details(run(machine, {}, {"n": 50}), "PassStateEntered")
    assert [e["name"] for e in entered] == ["Big"]


def test_a_missing_variable_is_a_runtime_error():
    result = _choose({"Variable": "$.absent", "StringEquals": "x"}, {})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")


def test_no_match_and_no_default_fails_with_no_choice_matched():
    result = _choose({"Variable": "$.v", "StringEquals": "x"}, {"v": "y"}, default=False)
    assert (result.status, result.error) == ("FAILED", "States.NoChoiceMatched")
    assert result.failed_state == "Decide"
