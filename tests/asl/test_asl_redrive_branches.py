"""RedriveExecution of an execution that stopped inside an Inline Map or a Parallel state.

Step Functions API reference, RedriveExecution: "For workflows that include an Inline Map or
Parallel state, RedriveExecution API action reschedules and redrives only the iterations and
branches that failed or aborted." Each one continues from the state it stopped in; the others
keep their output."""

from __future__ import annotations

from asl_support import (
    GLUE,
    LAMBDA,
    StepWork,
    definition,
    redrive,
    run,
    task,
)


def _each(max_concurrency: int) -> dict:
    return {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": max_concurrency,
            "ItemSelector": {"item.$": "$$.Map.Item.Value"},
            "ItemProcessor": {
                "StartAt": "Load",
                "States": {
                    "Load": task(LAMBDA, ResultPath="$.loaded", Next="Save"),
                    "Save": task(GLUE, OutputPath="$.saved", ResultPath="$.saved"),
                },
            },
            "End": True,
        }
    }


def test_a_redrive_reruns_only_the_iterations_of_an_inline_map_that_did_not_succeed():
    """Iterations run at once; b's Load fails, so a and c are stopped wherever they are (before
    Save, or not at all if they finished). The redrive runs b from Load, and a and c, if they
    did not finish, from the state they stopped before: no Load runs twice for them."""
    machine = definition(_each(max_concurrency=3))
    calls = StepWork(failing={("Load", "b")})
    integrations = {LAMBDA: calls.step("Load"), GLUE: calls.step("Save")}
    first = run(machine, integrations, {"items": ["a", "b", "c"]})
    assert (first.status, first.error, first.failed_state) == ("FAILED", "Work.Failed", "Each")
    calls.failing.clear()
    second = redrive(machine, integrations, first.events)
    assert second.status == "SUCCEEDED", second.cause
    assert second.output == ["Save-a", "Save-b", "Save-c"]
    assert calls.calls == {
        ("Load", "a"): 1,
        ("Load", "b"): 2,
        ("Load", "c"): 1,
        ("Save", "a"): 1,
        ("Save", "b"): 1,
        ("Save", "c"): 1,
    }


def test_an_iteration_never_started_runs_and_a_finished_one_keeps_its_output():
    """One at a time: a succeeds, b fails, c never starts; the redrive runs b and c only and
    records their iterations (MapIterationStarted index 1 and 2) after ExecutionRedriven."""
    machine = definition(_each(max_concurrency=1))
    calls = StepWork(failing={("Save", "b")})
    integrations = {LAMBDA: calls.step("Load"), GLUE: calls.step("Save")}
    first = run(machine, integrations, {"items": ["a", "b", "c"]})
    assert calls.calls[("Load", "c")] == 0
    calls.failing.clear()
    second = redrive(machine, integrations, first.events)
    assert second.output == ["Save-a", "Save-b", "Save-c"]
    # a ran once in all; b's Load did not run again (it stopped at Save)
    assert calls.calls[("Load", "a")] == calls.calls[("Save", "a")] == 1
    assert (calls.calls[("Load", "b")], calls.calls[("Save", "b")]) == (1, 2)
    redriven = second.events[len(first.events) :]
    assert [e["type"] for e in redriven[:4]] == [
        "ExecutionRedriven",
        "MapStateEntered",
        "MapStateStarted",
        "MapIterationStarted",
    ]
    indexes = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in redriven
        if e["type"] == "MapIterationStarted"
    ]
    assert indexes == [1, 2]
    # b continued at Save with the input Save had
    [entered] = [e for e in redriven if e["type"] == "TaskStateEntered"][:1]
    assert entered["stateEnteredEventDetails"]["name"] == "Save"


def test_a_redrive_reruns_only_the_branches_of_a_parallel_state_that_did_not_succeed():
    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Parameters": {"item": "x"},
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": task(LAMBDA)}},
                    {
                        "StartAt": "RightLoad",
                        "States": {
                            "RightLoad": task(GLUE, ResultPath="$.loaded", Next="RightSave"),
                            "RightSave": task(LAMBDA, Parameters={"item": "y"}),
                        },
                    },
                ],
                "End": True,
            }
        }
    )
    calls = StepWork(failing={("Right", "y")})
    left_or_right = {"x": calls.step("Left"), "y": calls.step("Right")}
    integrations = {
        LAMBDA: lambda r: left_or_right[r.parameters["item"]](r),
        GLUE: calls.step("Load"),
    }
    first = run(machine, integrations)
    assert first.status == "FAILED"
    calls.failing.clear()
    second = redrive(machine, integrations, first.events)
    assert (second.status, second.output) == ("SUCCEEDED", ["Left-x", "Right-y"])
    # the left branch did not run again, nor did the right branch's first state
    assert calls.calls == {("Left", "x"): 1, ("Load", "x"): 1, ("Right", "y"): 2}


def test_a_history_whose_branches_cannot_be_told_apart_reruns_every_branch():
    """A history recorded before branches had their own previousEventId chains (each event
    following the one before it): nothing tells the branches apart, so all run again, as a
    redrive did before."""
    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Parameters": {"item": "x"},
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": task(LAMBDA)}},
                    {"StartAt": "Right", "States": {"Right": task(GLUE)}},
                ],
                "End": True,
            }
        }
    )
    calls = StepWork(failing={("Right", "x")})
    integrations = {LAMBDA: calls.step("Left"), GLUE: calls.step("Right")}
    first = run(machine, integrations)
    flat = [dict(e, previousEventId=e["id"] - 1) for e in first.events]
    calls.failing.clear()
    second = redrive(machine, integrations, flat)
    assert second.output == ["Left-x", "Right-x"]
    assert calls.calls == {("Left", "x"): 2, ("Right", "x"): 2}


def test_branch_events_chain_to_their_own_previous_event():
    """Executions recorded against AWS (LocalStack's test_base_scenarios snapshots): inside a
    Parallel branch, previousEventId names the branch's own previous event; its first event
    names ParallelStateStarted."""
    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
                "End": True,
            }
        }
    )
    result = run(machine, {})
    by_id = {e["id"]: e for e in result.events}
    [started] = [e for e in result.events if e["type"] == "ParallelStateStarted"]
    for name in ("A", "B"):
        entered = next(
            e for e in result.events if e.get("stateEnteredEventDetails", {}).get("name") == name
        )
        exited = next(
            e for e in result.events if e.get("stateExitedEventDetails", {}).get("name") == name
        )
        assert entered["previousEventId"] == started["id"]
        assert by_id[exited["previousEventId"]] is entered
