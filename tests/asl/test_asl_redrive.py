"""RedriveExecution semantics: continue at the state that did not finish, keep the rest."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from asl_support import (
    EXECUTION_ARN,
    GLUE,
    LAMBDA,
    STATE_MACHINE_ARN,
    Clock,
    FakeSleep,
    Script,
    definition,
    details,
    failing,
    redrive,
    run,
    task,
    types,
)

from lake.asl import Executor, NotRedrivable

S3_GET = "arn:aws:states:::aws-sdk:s3:getObject"


def _pipeline():
    return definition(
        {
            "Validate": task(LAMBDA, ResultPath="$.validated", Next="Transform"),
            "Transform": task(
                GLUE,
                Parameters={"attempt.$": "$$.Execution.RedriveCount", "v.$": "$.validated"},
                ResultPath="$.transformed",
                Retry=[{"ErrorEquals": ["Glue.Throttled"], "MaxAttempts": 1}],
                Next="Read",
            ),
            "Read": task(S3_GET, ResultPath="$.read"),
        }
    )


def test_redrive_continues_at_the_failed_state_without_rerunning_earlier_ones():
    # GIVEN an execution that failed at Transform after Validate succeeded
    validate, transform, read = (
        Script("ok"),
        Script(failing("States.TaskFailed", "disk full")),
        Script("r"),
    )
    integrations = {LAMBDA: validate, GLUE: transform, S3_GET: read}
    first = run(_pipeline(), integrations, {"file": "a.csv"})
    assert (first.status, first.failed_state) == ("FAILED", "Transform")
    # WHEN the cause is fixed and the execution is redriven
    transform.outcomes = ["done"]
    result = redrive(_pipeline(), integrations, first.events)
    # THEN it resumes at Transform with Transform's original input, and succeeds
    assert result.status == "SUCCEEDED"
    assert validate.calls == 1  # Validate did not run again
    assert transform.calls == 2 and read.calls == 1
    assert transform.requests[1].parameters == {"attempt": 1, "v": "ok"}
    assert result.output == {"file": "a.csv", "validated": "ok", "transformed": "done", "read": "r"}
    assert result.redrive_count == 1


def test_redrive_keeps_earlier_events_and_continues_their_ids():
    integrations = {LAMBDA: Script("ok"), GLUE: Script(failing("Boom")), S3_GET: Script("r")}
    first = run(_pipeline(), integrations, {})
    integrations[GLUE].outcomes = ["done"]
    seen = []
    result = redrive(_pipeline(), integrations, first.events, on_event=seen.append)
    assert result.events[: len(first.events)] == first.events
    new = result.events[len(first.events) :]
    assert new == seen  # only the new events are reported
    assert new[0]["type"] == "ExecutionRedriven"
    assert new[0]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert new[1]["type"] == "TaskStateEntered"
    assert new[1]["stateEnteredEventDetails"]["name"] == "Transform"
    assert [e["id"] for e in result.events] == list(range(1, len(result.events) + 1))
    assert types(result)[-1] == "ExecutionSucceeded"


def test_redrive_resets_the_retry_attempts_of_the_redriven_state():
    transform = Script(failing("Glue.Throttled"))
    integrations = {LAMBDA: Script("ok"), GLUE: transform, S3_GET: Script("r")}
    first = run(_pipeline(), integrations, {})
    assert transform.calls == 2  # one try and its one retry
    second = redrive(_pipeline(), integrations, first.events)
    assert transform.calls == 4  # again one try and one retry
    assert (second.status, second.redrive_count) == ("FAILED", 1)
    third = redrive(_pipeline(), integrations, second.events)
    assert third.redrive_count == 2
    assert [d["redriveCount"] for d in details(third, "ExecutionRedriven")] == [1, 2]


def test_a_succeeded_execution_is_not_redrivable():
    integrations = {LAMBDA: Script("ok"), GLUE: Script("done"), S3_GET: Script("r")}
    done = run(_pipeline(), integrations, {})
    with pytest.raises(NotRedrivable, match=r"^Execution is SUCCEEDED and cannot be redriven\.$"):
        redrive(_pipeline(), integrations, done.events)


def test_a_running_execution_is_not_redrivable():
    integrations = {LAMBDA: Script("ok"), GLUE: Script(failing("Boom")), S3_GET: Script("r")}
    failed = run(_pipeline(), integrations, {})
    with pytest.raises(NotRedrivable, match=r"^Execution is RUNNING and cannot be redriven\.$"):
        redrive(_pipeline(), integrations, failed.events[:-1])


def test_redrive_is_refused_after_fourteen_days():
    integrations = {LAMBDA: Script("ok"), GLUE: Script(failing("Boom")), S3_GET: Script("r")}
    clock = Clock()
    failed = run(_pipeline(), integrations, {}, clock=clock)
    clock.now += timedelta(days=15)
    with pytest.raises(NotRedrivable, match="redrivable period exceeded"):
        redrive(_pipeline(), integrations, failed.events, clock=clock)


def test_a_timed_out_execution_is_redriven_at_the_state_that_timed_out():
    release = threading.Event()
    slow = Script(lambda request: release.wait(10), "done")
    machine = definition({"First": task(LAMBDA, Next="Slow"), "Slow": task(GLUE)}, TimeoutSeconds=1)
    first_task = Script("ok")
    integrations = {LAMBDA: first_task, GLUE: slow}
    timed_out = run(machine, integrations, {}, timeout_scale=0.05)
    release.set()
    assert timed_out.status == "TIMED_OUT"
    # the execution timeout starts again at the redrive, as AWS resets it
    result = redrive(machine, integrations, timed_out.events, timeout_scale=0.05)
    assert result.status == "SUCCEEDED" and result.output == "done"
    assert first_task.calls == 1


def test_an_abort_stops_between_states_and_a_redrive_resumes_at_the_next_one():
    abort = threading.Event()

    def validate_then_abort(request):
        abort.set()  # someone stops the execution while Validate runs
        return "ok"

    integrations = {LAMBDA: Script(validate_then_abort), GLUE: Script("done"), S3_GET: Script("r")}
    executor = Executor(_pipeline(), integrations, sleep=FakeSleep(), clock=Clock())
    aborted = executor.start(
        execution_arn=EXECUTION_ARN,
        name="run-1",
        input={},
        state_machine_arn=STATE_MACHINE_ARN,
        abort=abort,
    )
    assert aborted.status == "ABORTED"
    assert types(aborted)[-2:] == ["TaskStateExited", "ExecutionAborted"]
    result = redrive(_pipeline(), integrations, aborted.events)
    assert result.status == "SUCCEEDED"
    assert integrations[LAMBDA].calls == 1 and integrations[GLUE].calls == 1


def test_an_abort_during_a_retry_wait_stops_the_execution():
    abort = threading.Event()

    def sleep(seconds):
        abort.set()  # the abort arrives while the interpreter waits to retry

    integrations = {
        LAMBDA: Script("ok"),
        GLUE: Script(failing("Glue.Throttled")),
        S3_GET: Script("r"),
    }
    executor = Executor(_pipeline(), integrations, sleep=sleep, clock=Clock())
    result = executor.start(
        execution_arn=EXECUTION_ARN,
        name="run-1",
        input={},
        state_machine_arn=STATE_MACHINE_ARN,
        abort=abort,
    )
    assert (result.status, result.failed_state) == ("ABORTED", "Transform")
    assert integrations[GLUE].calls == 1


def test_redrive_context_shows_the_original_start_and_the_redrive():
    read = Script(lambda request: request.context["Execution"])
    integrations = {LAMBDA: Script("ok"), GLUE: Script(failing("Boom")), S3_GET: read}
    clock = Clock()
    first = run(_pipeline(), integrations, {"file": "x"}, clock=clock)
    integrations[GLUE].outcomes = ["done"]
    result = redrive(_pipeline(), integrations, first.events, clock=clock)
    execution = result.output["read"]
    started = json.loads(first.events[0]["executionStartedEventDetails"]["input"])
    assert execution["Input"] == started == {"file": "x"}
    assert execution["RedriveCount"] == 1
    assert execution["StartTime"] == first.events[0]["timestamp"][:23] + "Z"
    assert execution["StartTime"] < execution["RedriveTime"]


def test_redrive_resumes_at_a_map_state_that_failed_with_its_original_input():
    """Step Functions API reference, RedriveExecution: an execution that failed inside an
    Inline Map state is redriven at that Map state (with the state's original input), not at a
    state of one of its iterations; only the failed iterations run again
    (test_asl_redrive_branches)."""
    machine = definition(
        {
            "Prepare": task(S3_GET, ResultPath=None, Next="Each"),
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.files",
                "MaxConcurrency": 1,
                "ItemProcessor": {"StartAt": "Load", "States": {"Load": task(GLUE)}},
                "End": True,
            },
        }
    )
    load = Script("a-done", failing("Glue.Failed", "b broke"))
    integrations = {S3_GET: Script("r"), GLUE: load}
    first = run(machine, integrations, {"files": ["a", "b"]})
    assert (first.status, first.failed_state) == ("FAILED", "Each")
    load.outcomes = [lambda r: f"{r.parameters}-done"]
    second = redrive(machine, integrations, first.events)
    assert second.status == "SUCCEEDED"
    assert second.output == ["a-done", "b-done"]
    assert integrations[S3_GET].calls == 1  # Prepare did not run again
    assert load.calls == 3  # a once, b twice
    redriven = second.events[len(first.events) :]
    assert [e["type"] for e in redriven[:3]] == [
        "ExecutionRedriven",
        "MapStateEntered",
        "MapStateStarted",
    ]


def test_redrive_resumes_at_a_parallel_state_that_failed():
    """Step Functions API reference, RedriveExecution: a failed Parallel state is redriven."""
    machine = definition(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Load", "States": {"Load": task(GLUE)}}],
                "End": True,
            }
        }
    )
    load = Script(failing("Glue.Failed"))
    first = run(machine, {GLUE: load})
    load.outcomes = ["ok"]
    second = redrive(machine, {GLUE: load}, first.events)
    assert (second.status, second.output) == ("SUCCEEDED", ["ok"])
