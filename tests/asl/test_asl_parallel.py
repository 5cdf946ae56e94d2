"""The Parallel state: branches, result order, failure, Retry/Catch, history events."""

from __future__ import annotations

import threading
import time

from asl_support import GLUE, LAMBDA, Script, definition, details, failing, run, task, types


def _branch(*states: tuple[str, dict]) -> dict:
    return {"StartAt": states[0][0], "States": dict(states)}


def _pass(result=None, **fields):
    state = {"Type": "Pass", "End": True, **fields}
    if result is not None:
        state["Result"] = result
    return state


def test_each_branch_gets_the_input_and_the_output_is_their_outputs_in_order():
    """Step Functions guide, "Parallel workflow state": the output is an array with one
    element per branch, in the order of Branches, each branch getting the state's input."""
    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    _branch(("Slow", task(GLUE))),
                    _branch(("Echo", task(LAMBDA))),
                ],
                "End": True,
            }
        }
    )
    release = threading.Event()

    def slow(request):
        release.wait(2)
        return {"got": request.parameters}

    def fast(request):
        release.set()  # the first branch finishes only after the second one ran
        return request.parameters

    result = run(machine, {GLUE: Script(slow), LAMBDA: Script(fast)}, {"x": 1})
    assert result.status == "SUCCEEDED"
    assert result.output == [{"got": {"x": 1}}, {"x": 1}]


def test_history_of_a_parallel_state_as_aws_records_it():
    """Step Functions guide, "Parallel workflow state" and the execution history AWS records
    for it (GetExecutionHistory): ParallelStateEntered, ParallelStateStarted, each branch's
    state events, ParallelStateSucceeded, ParallelStateExited."""
    machine = definition(
        {
            "Fan": {
                "Type": "Parallel",
                "Branches": [_branch(("A", _pass(1))), _branch(("B", _pass(2)))],
                "ResultSelector": {"first.$": "$[0]"},
                "ResultPath": "$.fan",
                "End": True,
            }
        }
    )
    result = run(machine, {}, {"in": 0})
    kinds = types(result)
    assert kinds[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert sorted(kinds[3:7]) == sorted(["PassStateEntered", "PassStateExited"] * 2)
    assert kinds[7:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    branch_a = [e["type"] for e in result.events if '"A"' in str(e) or "'A'" in str(e)]
    assert branch_a == ["PassStateEntered", "PassStateExited"]
    assert result.output == {"in": 0, "fan": {"first": 1}}
    assert set(result.events[2]) == {"timestamp", "type", "id", "previousEventId"}


def test_a_failing_branch_fails_the_state_with_its_error_and_stops_the_others():
    """Step Functions guide, "Parallel workflow state": if any branch fails, the entire
    Parallel state fails and all its branches are stopped; the error is the branch's."""

    def waiting_branch(request):
        return "first step done"

    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    _branch(
                        ("Step1", task(LAMBDA, Next="Nap")),
                        ("Nap", {"Type": "Wait", "Seconds": 5, "Next": "Never"}),
                        ("Never", _pass("unreached")),
                    ),
                    _branch(("Boom", {"Type": "Fail", "Error": "Custom.Bad", "Cause": "why"})),
                ],
                "End": True,
            }
        }
    )
    # a real (interruptible) sleep: the 5 s Wait is cut short when the other branch fails
    result = run(machine, {LAMBDA: Script(waiting_branch)}, sleep=time.sleep)
    assert (result.status, result.error, result.cause) == ("FAILED", "Custom.Bad", "why")
    assert result.failed_state == "Both"
    assert "ParallelStateFailed" in types(result)
    assert "ParallelStateSucceeded" not in types(result)
    assert all(d["name"] != "Never" for d in details(result, "PassStateEntered"))
    assert types(result)[-2:] == ["ParallelStateFailed", "ExecutionFailed"]


def test_a_failed_parallel_state_is_retried_and_caught():
    """Step Functions guide, "Parallel workflow state" (Retry and Catch fields) and "Handling
    errors": Retry re-runs all branches; Catch takes the branch's error."""
    flaky = Script(failing("Flaky"), "ok")
    retried = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [_branch(("Call", task()))],
                "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1}],
                "End": True,
            }
        }
    )
    assert run(retried, {LAMBDA: flaky}).output == ["ok"]
    assert flaky.calls == 2
    caught = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [_branch(("Call", task()))],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Done"}],
                "Next": "Done",
            },
            "Done": _pass(),
        }
    )
    result = run(caught, {LAMBDA: Script(failing("Nope", "because"))}, {"k": 1})
    assert result.output == {"k": 1, "err": {"Error": "Nope", "Cause": "because"}}
    kinds = types(result)
    assert kinds.index("ParallelStateFailed") + 1 == kinds.index("ParallelStateExited")


def test_branch_states_see_the_execution_context():
    """Step Functions guide, "Context object": states in branches see the execution's
    context, and their own State."""
    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    _branch(
                        (
                            "Look",
                            _pass(Parameters={"e.$": "$$.Execution.Name", "s.$": "$$.State.Name"}),
                        )
                    )
                ],
                "End": True,
            }
        }
    )
    assert run(machine, {}, name="run-1").output == [{"e": "run-1", "s": "Look"}]


def test_resources_in_branches_are_listed():
    """``definition.resources()`` lists Task resources inside branches (the runtime must
    provide an integration for each)."""
    machine = definition(
        {"Both": {"Type": "Parallel", "Branches": [_branch(("T", task(GLUE)))], "End": True}}
    )
    assert machine.resources() == {GLUE}
