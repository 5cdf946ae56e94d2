"""JSONPath beyond fields and indexes, as Step Functions (Jayway JsonPath) evaluates it.

Step Functions guide, "Using JSONPath paths": Paths follow Jayway's JsonPath syntax; reference
paths (ResultPath, ItemsPath, a Choice rule's Variable) identify a single node and allow none of
``@ .. , : ? *``. Jayway returns the value for a definite path and a list for an indefinite one.
"""

from __future__ import annotations

import pytest
from asl_support import LAMBDA, Script, definition, run, task

from lake.asl import UnsupportedDefinition
from lake.asl.paths import parse_path

DATA = {
    "items": [
        {"id": "a", "price": 5, "tags": ["x"]},
        {"id": "b", "price": 15},
        {"id": "c", "price": 25, "tags": []},
    ],
    "shop": {"name": "s", "owner": {"name": "o"}},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.items[*].id", ["a", "b", "c"]),
        ("$.items[1:]", [DATA["items"][1], DATA["items"][2]]),
        ("$.items[:2]", [DATA["items"][0], DATA["items"][1]]),
        ("$.items[1:3]", [DATA["items"][1], DATA["items"][2]]),
        ("$.items[-1:]", [DATA["items"][2]]),
        ("$.items[0,2].id", ["a", "c"]),
        ("$.items[?(@.price > 10)].id", ["b", "c"]),
        ("$.items[?(@.price >= 5 && @.price < 20)].id", ["a", "b"]),
        ("$.items[?(@.id == 'c' || @.price == 5)].id", ["a", "c"]),
        ("$.items[?(@.tags)].id", ["a", "c"]),
        ("$.items[?(@.price > $.shop.limit)]", []),
        ("$..name", ["s", "o"]),
        ("$.shop.*", ["s", {"name": "o"}]),
        ("$.items[?(@.price > 100)]", []),
    ],
)
def test_indefinite_paths_return_lists_like_jayway(path, expected):
    """Step Functions guide, "Using JSONPath paths" (wildcards, slices, index lists, filters,
    deep scan); Jayway returns every match, in document order, as a list."""
    assert parse_path(path).read(DATA) == expected


def test_a_definite_path_returns_the_value_itself():
    """Jayway: a path of fields and indexes only is definite and returns the value."""
    assert parse_path("$.items[0].id").read(DATA) == "a"


def test_wildcards_and_filters_work_in_input_path_and_parameters():
    """Step Functions guide, "Using JSONPath paths": InputPath and Parameters take any Path."""
    machine = definition(
        {
            "Pick": task(
                InputPath="$.items[?(@.price > 10)]",
                Parameters={"ids.$": "$[*].id", "first.$": "$[0].id"},
            )
        }
    )
    work = Script("ok")
    run(machine, {LAMBDA: work}, DATA)
    assert work.requests[0].parameters == {"ids": ["b", "c"], "first": "b"}


@pytest.mark.parametrize(
    "state",
    [
        task(ResultPath="$.items[*]"),
        task(ResultPath="$..x"),
        {
            "Type": "Choice",
            "Choices": [{"Variable": "$.items[*].price", "NumericEquals": 1, "Next": "End"}],
            "Default": "End",
        },
    ],
)
def test_reference_paths_refuse_wildcards(state):
    """Step Functions guide, "Reference paths": ResultPath and a Choice rule's Variable must
    identify a single node; ``*``, ``..``, ``?`` and friends are refused."""
    states = {"S": state, "End": {"Type": "Succeed"}}
    if state["Type"] == "Task":
        state.pop("End", None)
        state["Next"] = "End"
    with pytest.raises(UnsupportedDefinition, match="not a reference path"):
        definition(states)


def test_items_path_is_a_reference_path():
    """Step Functions guide, "ItemsPath (Map)": the value must be a reference path."""
    with pytest.raises(UnsupportedDefinition, match="not a reference path"):
        definition(
            {
                "M": {
                    "Type": "Map",
                    "ItemsPath": "$.items[*]",
                    "ItemProcessor": {
                        "StartAt": "P",
                        "States": {"P": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        )
