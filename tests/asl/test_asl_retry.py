"""Retry semantics, against the behaviour the Step Functions guide documents ("Handling errors")."""

from __future__ import annotations

import random

import pytest
from asl_support import LAMBDA, FakeSleep, Script, definition, failing, run, task, types


def _retrying(retriers: list[dict], catch: list[dict] | None = None) -> dict:
    states = {"Work": task(Retry=retriers, **({"Catch": catch} if catch else {}))}
    if catch:
        states["Recover"] = {"Type": "Pass", "End": True}
    return states


def test_backoff_doubles_each_retry_then_the_error_fails_the_execution():
    # GIVEN IntervalSeconds 2, BackoffRate 2, MaxAttempts 3 and a task that always fails
    machine = definition(
        _retrying(
            [{"ErrorEquals": ["Boom"], "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 3}]
        )
    )
    work, sleep = Script(failing("Boom", "it broke")), FakeSleep()
    # WHEN it runs
    result = run(machine, {LAMBDA: work}, sleep=sleep)
    # THEN it waits 2, 4 and 8 seconds, tries 1 + 3 times, and fails with the task's error
    assert sleep.waits == [2, 4, 8]
    assert work.calls == 4
    assert (result.status, result.error, result.cause) == ("FAILED", "Boom", "it broke")
    assert types(result).count("TaskFailed") == 4


def test_aws_documented_example_waits_three_then_four_and_a_half_seconds():
    # The guide: IntervalSeconds 3, MaxAttempts 2, BackoffRate 1.5 "makes 2 retry attempts
    # after waiting for 3 and 4.5 seconds".
    machine = definition(
        _retrying(
            [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 3,
                    "MaxAttempts": 2,
                    "BackoffRate": 1.5,
                }
            ]
        )
    )
    sleep = FakeSleep()
    run(machine, {LAMBDA: Script(failing("Boom"))}, sleep=sleep)
    assert sleep.waits == [3, 4.5]


def test_defaults_are_one_second_three_attempts_and_rate_two():
    machine = definition(_retrying([{"ErrorEquals": ["Boom"]}]))
    sleep = FakeSleep()
    run(machine, {LAMBDA: Script(failing("Boom"))}, sleep=sleep)
    assert sleep.waits == [1, 2, 4]


def test_max_delay_seconds_caps_the_growing_interval():
    machine = definition(
        _retrying(
            [
                {
                    "ErrorEquals": ["Boom"],
                    "IntervalSeconds": 2,
                    "BackoffRate": 3,
                    "MaxAttempts": 5,
                    "MaxDelaySeconds": 20,
                }
            ]
        )
    )
    sleep = FakeSleep()
    run(machine, {LAMBDA: Script(failing("Boom"))}, sleep=sleep)
    assert sleep.waits == [2, 6, 18, 20, 20]


def test_full_jitter_draws_each_wait_between_zero_and_the_computed_backoff():
    retrier = {
        "ErrorEquals": ["Boom"],
        "IntervalSeconds": 2,
        "BackoffRate": 2,
        "MaxAttempts": 6,
        "MaxDelaySeconds": 30,
        "JitterStrategy": "FULL",
    }
    machine = definition(_retrying([retrier]))
    sleep = FakeSleep()
    run(machine, {LAMBDA: Script(failing("Boom"))}, sleep=sleep, rng=random.Random(42))
    ceilings = [2, 4, 8, 16, 30, 30]
    assert len(sleep.waits) == len(ceilings)
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleep.waits, ceilings, strict=True))
    assert sleep.waits != ceilings  # jittered, not the plain backoff


def test_jitter_none_is_the_plain_backoff():
    retrier = {
        "ErrorEquals": ["Boom"],
        "IntervalSeconds": 1,
        "MaxAttempts": 2,
        "JitterStrategy": "NONE",
    }
    sleep = FakeSleep()
    run(definition(_retrying([retrier])), {LAMBDA: Script(failing("Boom"))}, sleep=sleep)
    assert sleep.waits == [1, 2]


def test_time_scale_multiplies_every_retry_wait():
    retrier = {"ErrorEquals": ["Boom"], "IntervalSeconds": 10, "MaxAttempts": 2}
    sleep = FakeSleep()
    run(
        definition(_retrying([retrier])),
        {LAMBDA: Script(failing("Boom"))},
        sleep=sleep,
        time_scale=0.001,
    )
    assert sleep.waits == pytest.approx([0.01, 0.02])


def test_max_attempts_zero_never_retries():
    machine = definition(
        _retrying([{"ErrorEquals": ["Boom"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}])
    )
    work, sleep = Script(failing("Boom")), FakeSleep()
    result = run(machine, {LAMBDA: work}, sleep=sleep)
    # The first matching retrier decides: MaxAttempts 0 means Boom is not retried at all,
    # even though a later States.ALL retrier would match it.
    assert work.calls == 1 and sleep.waits == []
    assert result.status == "FAILED"


def test_first_matching_retrier_wins_and_each_keeps_its_own_count():
    # The guide's "complex retry scenario": errors ErrorA, ErrorB, ErrorC, ErrorB cause waits of
    # 1 and 2 (first retrier), 5 (second), then the first retrier has used its two retries and
    # the error goes to Catch.
    retriers = [
        {
            "ErrorEquals": ["ErrorA", "ErrorB"],
            "IntervalSeconds": 1,
            "BackoffRate": 2.0,
            "MaxAttempts": 2,
        },
        {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
    ]
    machine = definition(
        _retrying(retriers, catch=[{"ErrorEquals": ["States.ALL"], "Next": "Recover"}])
    )
    work = Script(
        failing("ErrorA"), failing("ErrorB"), failing("ErrorC"), failing("ErrorB"), "never"
    )
    sleep = FakeSleep()
    result = run(machine, {LAMBDA: work}, sleep=sleep)
    assert sleep.waits == [1, 2, 5]
    assert work.calls == 4
    assert result.status == "SUCCEEDED"
    assert result.output == {"Error": "ErrorB", "Cause": ""}


def test_a_retry_that_succeeds_continues_normally():
    machine = definition(
        _retrying([{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 2}])
    )
    work = Script(failing("Lambda.ServiceException"), {"ok": True})
    result = run(machine, {LAMBDA: work})
    assert result.status == "SUCCEEDED"
    assert result.output == {"ok": True}


def test_states_all_matches_any_error_name():
    machine = definition(_retrying([{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}]))
    work = Script(failing("Anything.AtAll"), "done")
    assert run(machine, {LAMBDA: work}).output == "done"


def test_states_task_failed_matches_task_errors_but_not_states_timeout():
    retriers = [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1, "IntervalSeconds": 1}]
    # A task error is retried by States.TaskFailed ...
    work = Script(failing("Custom.Error"), "ok")
    assert run(definition(_retrying(retriers)), {LAMBDA: work}).output == "ok"
    # ... a timeout is not.
    slow = definition({"Work": task(TimeoutSeconds=1, Retry=retriers)})
    import threading

    release = threading.Event()
    result = run(slow, {LAMBDA: Script(lambda request: release.wait(5))}, timeout_scale=0.05)
    release.set()
    assert result.error == "States.Timeout"
    assert types(result).count("TaskTimedOut") == 1  # not retried


def test_retry_count_in_the_context_object_counts_retries():
    # $$.State.RetryCount is documented for passing the retry number to a task; Parameters are
    # therefore evaluated again for each attempt.
    machine = definition(
        {
            "Work": task(
                Parameters={"attempt.$": "$$.State.RetryCount"},
                Retry=[{"ErrorEquals": ["Boom"], "MaxAttempts": 2}],
            )
        }
    )
    work = Script(failing("Boom"), failing("Boom"), "ok")
    run(machine, {LAMBDA: work})
    assert [request.parameters for request in work.requests] == [
        {"attempt": 0},
        {"attempt": 1},
        {"attempt": 2},
    ]


def test_states_runtime_errors_are_never_retried_even_by_states_all():
    # A Parameters path that selects nothing is States.Runtime: AWS neither retries nor
    # catches it.
    machine = definition(
        {
            "Work": task(
                Parameters={"value.$": "$.missing"},
                Retry=[{"ErrorEquals": ["States.ALL"]}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            ),
            "Recover": {"Type": "Pass", "End": True},
        }
    )
    work, sleep = Script("never"), FakeSleep()
    result = run(machine, {LAMBDA: work}, sleep=sleep)
    assert result.status == "FAILED" and result.error == "States.Runtime"
    assert work.calls == 0 and sleep.waits == []
