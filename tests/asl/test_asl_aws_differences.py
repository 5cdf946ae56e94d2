"""Regression tests for behaviours where the interpreter differed from AWS (issue #14) and for
Step Functions' payload quota (issue #10). Each docstring names the page the behaviour is from.
"""

from __future__ import annotations

import json
import threading

import pytest
from asl_support import LAMBDA, Script, definition, details, failing, run, task, types

from lake.asl import limits
from lake.asl.errors import ExecutionInputTooLarge


def test_math_add_rounds_halves_like_java_math_round():
    """Step Functions guide, "Intrinsic functions" (States.MathAdd): Step Functions runs on the
    JVM and rounds a decimal argument like Java's Math.round, so -1.5 becomes -1, not -2."""
    machine = definition(
        {"Add": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.a, 0)"}, "End": True}}
    )
    assert run(machine, {}, {"a": -1.5}).output == {"v": -1}
    assert run(machine, {}, {"a": -2.5}).output == {"v": -2}
    assert run(machine, {}, {"a": 1.5}).output == {"v": 2}
    assert run(machine, {}, {"a": -1.6}).output == {"v": -2}


def test_the_whole_context_object_is_copied_not_shared():
    """Step Functions guide, "Accessing execution data from the Context object": ``$$`` is the
    context object at the time the state runs; a later state must not change what an earlier
    state already output."""
    machine = definition(
        {
            "First": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "Next": "Second"},
            "Second": {"Type": "Pass", "End": True},
        }
    )
    result = run(machine, {})
    assert result.output["ctx"]["State"]["Name"] == "First"
    assert '"Name":"First"' in details(result, "PassStateExited")[0]["output"]


def test_a_pass_state_sees_only_name_and_entered_time_in_state():
    """Step Functions guide, "Context object": ``$$.State.RetryCount`` belongs to states that
    retry; AWS gives a Pass state only Name and EnteredTime."""
    machine = definition(
        {
            "Look": {"Type": "Pass", "Parameters": {"s.$": "$$.State"}, "Next": "Work"},
            "Work": task(Parameters={"s.$": "$$.State"}),
        }
    )
    work = Script("ok")
    result = run(machine, {LAMBDA: work})
    assert set(json.loads(details(result, "PassStateExited")[0]["output"])["s"]) == {
        "EnteredTime",
        "Name",
    }
    assert set(work.requests[0].parameters["s"]) == {"EnteredTime", "Name", "RetryCount"}


@pytest.mark.parametrize("error_equals", ["States.DataLimitExceeded", "States.ALL"])
def test_a_task_result_over_the_quota_is_caught_by_name_and_by_states_all(
    monkeypatch, error_equals
):
    """Step Functions guide, "Step Functions service quotas" (256 KiB for a task result) and
    "Handling errors": AWS records TaskFailed with States.DataLimitExceeded and this cause, and a
    Catch on the name or on States.ALL takes it (as executions recorded on AWS show)."""
    monkeypatch.setattr(limits, "MAX_PAYLOAD_BYTES", 300)
    machine = definition(
        {
            "Big": task(Catch=[{"ErrorEquals": [error_equals], "Next": "Handled"}]),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    result = run(machine, {LAMBDA: Script("x" * 400)})
    cause = (
        "The state/task 'lambda' returned a result with a size exceeding the maximum number of "
        "bytes service limit."
    )
    assert result.status == "SUCCEEDED"
    assert result.output == {"Error": "States.DataLimitExceeded", "Cause": cause}
    assert details(result, "TaskFailed") == [
        {
            "resourceType": "lambda",
            "resource": "invoke",
            "error": "States.DataLimitExceeded",
            "cause": cause,
        }
    ]


def test_a_state_output_over_the_quota_fails_the_execution(monkeypatch):
    """Step Functions guide, "Step Functions service quotas": a Pass state whose output is over
    256 KiB fails the execution with States.DataLimitExceeded and no StateExited event."""
    monkeypatch.setattr(limits, "MAX_PAYLOAD_BYTES", 1000)
    machine = definition({"State_1": {"Type": "Pass", "Result": {"Arg1": "a" * 1100}, "End": True}})
    result = run(machine, {})
    assert types(result) == ["ExecutionStarted", "PassStateEntered", "ExecutionFailed"]
    assert details(result, "ExecutionFailed") == [
        {
            "error": "States.DataLimitExceeded",
            "cause": "The state/task 'State_1' returned a result with a size exceeding the "
            "maximum number of bytes service limit.",
        }
    ]


def test_the_quota_counts_utf8_bytes_and_is_262144_by_default():
    """Step Functions guide, "Step Functions service quotas": 256 KiB of data as a UTF-8 encoded
    string."""
    assert limits.MAX_PAYLOAD_BYTES == 262_144
    assert limits.payload_bytes("é") == len('"é"'.encode())


def test_an_execution_input_over_the_quota_is_refused(monkeypatch):
    """Step Functions guide, "Step Functions service quotas": the execution input is held to
    the same 256 KiB."""
    monkeypatch.setattr(limits, "MAX_PAYLOAD_BYTES", 50)
    with pytest.raises(ExecutionInputTooLarge, match=r"States\.DataLimitExceeded"):
        run(definition({"P": {"Type": "Pass", "End": True}}), {}, {"k": "v" * 60})


def test_task_parameters_over_the_quota_fail_the_task_catchably(monkeypatch):
    """Step Functions guide, "Step Functions service quotas": task input is limited too."""
    monkeypatch.setattr(limits, "MAX_PAYLOAD_BYTES", 100)
    machine = definition(
        {
            "Big": task(
                Parameters={"a.$": "$.big", "b.$": "$.big"},
                Catch=[
                    {
                        "ErrorEquals": ["States.DataLimitExceeded"],
                        "ResultPath": None,
                        "Next": "Handled",
                    }
                ],
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    work = Script("never")
    result = run(machine, {LAMBDA: work}, {"big": "b" * 45})
    assert result.status == "SUCCEEDED" and work.calls == 0


def test_a_backslash_in_a_bracketed_name_is_kept():
    """Step Functions guide, "Paths" (JSONPath as Jayway evaluates it): inside ``['...']`` a
    backslash is part of the name."""
    machine = definition({"P": {"Type": "Pass", "Parameters": {"v.$": "$['a\\b']"}, "End": True}})
    assert run(machine, {}, {"a\\b": 1, "ab": 2}).output == {"v": 1}


def test_a_task_timeout_has_no_cause():
    """Step Functions guide, "Handling errors" (States.Timeout); as AWS records it, TaskTimedOut
    and ExecutionFailed carry the error and no cause."""
    release = threading.Event()
    machine = definition({"Slow": task(TimeoutSeconds=1)})
    result = run(machine, {LAMBDA: Script(lambda r: release.wait(5))}, timeout_scale=0.02)
    release.set()
    assert details(result, "TaskTimedOut") == [
        {"resourceType": "lambda", "resource": "invoke", "error": "States.Timeout"}
    ]
    assert details(result, "ExecutionFailed") == [{"error": "States.Timeout"}]
    assert result.cause is None


def test_an_intrinsic_error_cause_names_the_state_and_its_entered_event():
    """Step Functions guide, "Intrinsic functions"; AWS's cause of a runtime error begins
    "An error occurred while executing the state 'X' (entered at the event id #N)."."""
    machine = definition(
        {
            "First": {"Type": "Pass", "Next": "Bad"},
            "Bad": {"Type": "Pass", "Parameters": {"v.$": "States.ArrayLength($.s)"}, "End": True},
        }
    )
    result = run(machine, {}, {"s": "not an array"})
    assert result.error == "States.Runtime"
    assert result.cause.startswith(
        "An error occurred while executing the state 'Bad' (entered at the event id #4). "
        "The function 'States.ArrayLength($.s)' had the following error:"
    )


def test_states_runtime_is_still_neither_retried_nor_caught():
    """Step Functions guide, "Handling errors": States.ALL does not catch States.Runtime."""
    machine = definition(
        {
            "Work": task(
                InputPath="$.missing",
                Retry=[{"ErrorEquals": ["States.ALL"]}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    result = run(machine, {LAMBDA: Script(failing("X"))})
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
