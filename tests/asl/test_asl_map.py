"""The Map state in Inline mode: items, ItemSelector, concurrency, failure, history events."""

from __future__ import annotations

import threading
import time

import pytest
from asl_support import LAMBDA, Script, definition, details, failing, run, task, types

from lake.asl import UnsupportedDefinition


def _map(processor_states: dict, **fields) -> dict:
    start = next(iter(processor_states))
    state = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE"},
            "StartAt": start,
            "States": processor_states,
        },
        **fields,
    }
    if "Next" not in state:
        state["End"] = True
    return state


def test_inline_map_history_as_aws_records_it():
    """Step Functions guide, "Using Map state in Inline mode", and the history AWS records for
    it: MapStateEntered, MapStateStarted (length), per item MapIterationStarted (index, name of
    the Map state), the iteration's state events, MapIterationSucceeded; MapStateSucceeded,
    MapStateExited."""
    machine = definition({"Each": _map({"Double": task()}, ItemsPath="$.items", MaxConcurrency=1)})
    result = run(machine, {LAMBDA: Script(lambda r: r.parameters * 2)}, {"items": [1, 2]})
    iteration = [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
    ]
    assert types(result) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
        *iteration,
        "MapIterationSucceeded",
        "MapIterationStarted",
        *iteration,
        "MapIterationSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    assert details(result, "MapStateStarted") == [{"length": 2}]
    assert details(result, "MapIterationStarted") == [
        {"index": 0, "name": "Each"},
        {"index": 1, "name": "Each"},
    ]
    assert details(result, "MapIterationSucceeded")[1] == {"index": 1, "name": "Each"}
    assert result.output == [2, 4]


def test_item_selector_reads_the_item_index_and_value_from_the_context():
    """Step Functions guide, "ItemSelector (Map)": the selector may read the state's input and
    ``$$.Map.Item.Index`` / ``$$.Map.Item.Value``."""
    machine = definition(
        {
            "Each": _map(
                {"Echo": {"Type": "Pass", "End": True}},
                ItemsPath="$.list",
                ItemSelector={
                    "i.$": "$$.Map.Item.Index",
                    "v.$": "$$.Map.Item.Value",
                    "k.$": "$.key",
                },
            )
        }
    )
    result = run(machine, {}, {"list": ["a", "b"], "key": "K"})
    assert result.output == [{"i": 0, "v": "a", "k": "K"}, {"i": 1, "v": "b", "k": "K"}]


def test_legacy_iterator_and_parameters_work_like_item_processor_and_item_selector():
    """Step Functions guide, "Map state": Iterator and Parameters are the older names of
    ItemProcessor and ItemSelector, still accepted."""
    machine = definition(
        {
            "Each": {
                "Type": "Map",
                "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "Parameters": {"n.$": "$$.Map.Item.Value"},
                "ResultPath": "$.out",
                "End": True,
            }
        }
    )
    assert run(machine, {}, [3]).status == "FAILED"  # ResultPath on an array input
    ok = definition({"Each": {**machine.states["Each"], "ItemsPath": "$.xs"}})
    assert run(ok, {}, {"xs": [3]}).output == {"xs": [3], "out": [{"n": 3}]}


def test_max_concurrency_bounds_the_iterations_running_at_once_and_keeps_order():
    """Step Functions guide, "Map state" (MaxConcurrency): at most that many iterations run at
    the same time; the output keeps the items' order whatever order they finish in."""
    running, peak, lock = [0], [0], threading.Lock()

    def work(request):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.005 * (5 - request.parameters))  # later items finish first
        with lock:
            running[0] -= 1
        return request.parameters

    machine = definition({"Each": _map({"W": task()}, MaxConcurrency=2)})
    result = run(machine, {LAMBDA: Script(work)}, [0, 1, 2, 3, 4])
    assert result.output == [0, 1, 2, 3, 4]
    assert peak[0] == 2


def test_max_concurrency_path_reads_the_limit_from_the_input():
    """Step Functions guide, "Map state" (MaxConcurrencyPath)."""
    machine = definition(
        {
            "Each": _map(
                {"P": {"Type": "Pass", "End": True}}, ItemsPath="$.xs", MaxConcurrencyPath="$.n"
            )
        }
    )
    assert run(machine, {}, {"xs": [1], "n": 1}).output == [1]
    bad = run(machine, {}, {"xs": [1], "n": "one"})
    assert bad.error == "States.Runtime"


def test_a_failed_iteration_fails_the_map_with_its_error():
    """Step Functions guide, "Map state": a failed iteration fails the Map state with the
    iteration's error (MapIterationFailed, MapStateFailed), and Catch can take it."""
    machine = definition({"Each": _map({"W": task()}, MaxConcurrency=1)})
    work = Script(1, failing("Bad.Item", "item 2"), 3)
    result = run(machine, {LAMBDA: work}, [1, 2, 3])
    assert (result.status, result.error, result.cause) == ("FAILED", "Bad.Item", "item 2")
    assert result.failed_state == "Each"
    assert details(result, "MapIterationFailed") == [{"index": 1, "name": "Each"}]
    assert types(result)[-2:] == ["MapStateFailed", "ExecutionFailed"]
    assert work.calls == 2  # the third item never started
    caught = definition(
        {
            "Each": _map(
                {"W": task()},
                MaxConcurrency=1,
                Catch=[{"ErrorEquals": ["Bad.Item"], "Next": "After"}],
                Next="After",
            ),
            "After": {"Type": "Pass", "End": True},
        }
    )
    again = run(caught, {LAMBDA: Script(failing("Bad.Item", "x"))}, [1])
    assert again.output == {"Error": "Bad.Item", "Cause": "x"}
    kinds = types(again)
    assert kinds.index("MapStateFailed") + 1 == kinds.index("MapStateExited")


def test_a_map_state_is_retried_as_a_whole():
    """Step Functions guide, "Map state" (Retry): a retried Map state runs all its items
    again."""
    work = Script(1, failing("Flaky"), 1, 2)
    machine = definition(
        {"Each": _map({"W": task()}, MaxConcurrency=1, Retry=[{"ErrorEquals": ["Flaky"]}])}
    )
    assert run(machine, {LAMBDA: work}, [1, 2]).output == [1, 2]
    assert work.calls == 4


def test_items_that_are_not_an_array_are_states_runtime():
    """Step Functions guide, "Map state" (ItemsPath must select an array)."""
    machine = definition({"Each": _map({"P": {"Type": "Pass", "End": True}}, ItemsPath="$.x")})
    result = run(machine, {}, {"x": {"not": "array"}})
    assert result.error == "States.Runtime"
    assert result.cause.startswith("An error occurred while executing the state 'Each'")


def test_an_empty_array_gives_an_empty_result():
    """Step Functions guide, "Map state": no items, no iterations, an empty array."""
    machine = definition({"Each": _map({"P": {"Type": "Pass", "End": True}})})
    result = run(machine, {}, [])
    assert result.output == [] and details(result, "MapStateStarted") == [{"length": 0}]


@pytest.mark.parametrize(
    "field",
    [{"ToleratedFailureCount": 1}, {"Label": "x"}, {"ItemBatcher": {"MaxItemsPerBatch": 2}}],
)
def test_distributed_only_fields_are_refused_in_inline_mode(field):
    """Step Functions guide, "Using Map state in Distributed mode": these fields exist only
    there."""
    with pytest.raises(UnsupportedDefinition, match="only in a DISTRIBUTED Map"):
        definition({"Each": _map({"P": {"Type": "Pass", "End": True}}, **field)})


def test_resources_inside_item_processors_are_listed():
    """``definition.resources()`` includes Task resources of an item processor."""
    assert definition({"Each": _map({"W": task()})}).resources() == {LAMBDA}
