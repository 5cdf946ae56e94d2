"""Catch: the first matching catcher, its ResultPath, and errors that nothing catches."""

from __future__ import annotations

from asl_support import LAMBDA, Script, definition, details, failing, run, task, types

_INPUT = {"foo": "bar"}


def _machine(catchers: list[dict], **task_fields) -> dict:
    states = {"Work": task(Catch=catchers, Next="Done", **task_fields)}
    for catcher in catchers:  # only the states a catcher reaches: AWS refuses unreachable ones
        states[catcher["Next"]] = {"Type": "Pass", "End": True}
    states["Done"] = {"Type": "Pass", "End": True}
    return definition(states)


def test_catch_result_path_adds_the_error_output_and_keeps_the_input():
    # The guide's example: "ResultPath": "$.error-info" adds the error output to the input.
    machine = _machine(
        [{"ErrorEquals": ["java.lang.Exception"], "ResultPath": "$.error-info", "Next": "Recover"}]
    )
    result = run(machine, {LAMBDA: Script(failing("java.lang.Exception", "It broke"))}, _INPUT)
    assert result.status == "SUCCEEDED"
    assert result.output == {
        "foo": "bar",
        "error-info": {"Error": "java.lang.Exception", "Cause": "It broke"},
    }


def test_catch_without_result_path_replaces_the_input_with_the_error_output():
    machine = _machine([{"ErrorEquals": ["States.ALL"], "Next": "Recover"}])
    result = run(machine, {LAMBDA: Script(failing("Boom", "why"))}, _INPUT)
    assert result.output == {"Error": "Boom", "Cause": "why"}


def test_catch_result_path_null_passes_the_original_input_on():
    machine = _machine([{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "Recover"}])
    result = run(machine, {LAMBDA: Script(failing("Boom"))}, _INPUT)
    assert result.output == _INPUT


def test_the_first_matching_catcher_is_taken():
    machine = _machine(
        [
            {"ErrorEquals": ["Other.Error"], "Next": "Other"},
            {"ErrorEquals": ["Boom"], "Next": "Recover"},
            {"ErrorEquals": ["States.ALL"], "Next": "Other"},
        ]
    )
    result = run(machine, {LAMBDA: Script(failing("Boom"))}, _INPUT)
    entered = [d["name"] for d in details(result, "PassStateEntered")]
    assert entered == ["Recover"]


def test_retries_run_before_the_catcher_takes_the_error():
    machine = _machine(
        [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
        Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 2}],
    )
    work = Script(failing("Boom"))
    result = run(machine, {LAMBDA: work}, _INPUT)
    assert work.calls == 3
    assert result.output == {"Error": "Boom", "Cause": ""}
    # a caught error exits the task state, then the catcher's Next is entered
    assert types(result)[-5:] == [
        "TaskFailed",
        "TaskStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_an_uncaught_error_fails_the_execution_at_that_state():
    machine = _machine([{"ErrorEquals": ["Other.Error"], "Next": "Other"}])
    result = run(machine, {LAMBDA: Script(failing("Glue.Boom", "the job failed"))}, _INPUT)
    assert (result.status, result.error, result.cause) == ("FAILED", "Glue.Boom", "the job failed")
    assert result.failed_state == "Work"
    assert types(result)[-2:] == ["TaskFailed", "ExecutionFailed"]
    assert details(result, "ExecutionFailed") == [{"error": "Glue.Boom", "cause": "the job failed"}]


def test_an_unexpected_exception_in_an_integration_is_a_task_failure():
    machine = _machine(
        [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Recover"}]
    )
    result = run(machine, {LAMBDA: Script(RuntimeError("adapter bug"))}, _INPUT)
    assert result.output["err"]["Error"] == "States.TaskFailed"
    assert "RuntimeError: adapter bug" in result.output["err"]["Cause"]
