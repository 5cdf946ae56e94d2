"""TimeoutSeconds: on a Task (States.Timeout, retriable) and on the execution (TIMED_OUT).

Timeouts are real time; ``timeout_scale`` shrinks TimeoutSeconds so that these tests take
a fraction of a second.
"""

from __future__ import annotations

import threading

from asl_support import LAMBDA, Script, definition, details, run, task, types


def _blocking(release: threading.Event) -> Script:
    return Script(lambda request: release.wait(10) and "late result")


def test_a_task_that_outlives_its_timeout_fails_with_states_timeout():
    release = threading.Event()
    machine = definition({"Slow": task(TimeoutSeconds=2)})
    result = run(machine, {LAMBDA: _blocking(release)}, timeout_scale=0.05)
    release.set()
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert types(result)[-2:] == ["TaskTimedOut", "ExecutionFailed"]
    timed_out = details(result, "TaskTimedOut")[0]
    assert (timed_out["resourceType"], timed_out["resource"], timed_out["error"]) == (
        "lambda",
        "invoke",
        "States.Timeout",
    )


def test_a_timed_out_task_is_retried_by_a_states_timeout_retrier():
    release = threading.Event()
    slow_then_fast = Script(lambda request: release.wait(10), "fast")
    machine = definition(
        {
            "Slow": task(
                TimeoutSeconds=2, Retry=[{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}]
            )
        }
    )
    result = run(machine, {LAMBDA: slow_then_fast}, timeout_scale=0.05)
    release.set()
    assert result.status == "SUCCEEDED" and result.output == "fast"


def test_states_timeout_is_caught_by_name_and_by_states_all_but_not_by_task_failed():
    release = threading.Event()
    machine = definition(
        {
            "Slow": task(
                TimeoutSeconds=1,
                Catch=[
                    {"ErrorEquals": ["States.TaskFailed"], "Next": "WrongCatcher"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Recover"},
                ],
            ),
            "WrongCatcher": {"Type": "Pass", "End": True},
            "Recover": {"Type": "Pass", "End": True},
        }
    )
    result = run(machine, {LAMBDA: _blocking(release)}, timeout_scale=0.05)
    release.set()
    assert [d["name"] for d in details(result, "PassStateEntered")] == ["Recover"]
    assert result.output["Error"] == "States.Timeout"


def test_a_task_that_finishes_in_time_is_not_affected():
    machine = definition({"Quick": task(TimeoutSeconds=60)})
    result = run(machine, {LAMBDA: Script("done")}, timeout_scale=0.05)
    assert result.output == "done"
    assert details(result, "TaskScheduled")[0]["timeoutInSeconds"] == 60


def test_the_execution_times_out_after_its_timeout_seconds():
    release = threading.Event()
    machine = definition({"Slow": task()}, TimeoutSeconds=1)
    result = run(machine, {LAMBDA: _blocking(release)}, timeout_scale=0.05)
    release.set()
    assert (result.status, result.error) == ("TIMED_OUT", "States.Timeout")
    assert result.failed_state == "Slow"
    assert types(result)[-1] == "ExecutionTimedOut"
    assert "ExecutionFailed" not in types(result)


def test_a_wait_longer_than_the_execution_timeout_times_out():
    machine = definition({"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, TimeoutSeconds=60)
    result = run(machine, {})
    assert result.status == "TIMED_OUT"
