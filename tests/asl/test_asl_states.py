"""Pass, Wait, Succeed and Fail states."""

from __future__ import annotations

from datetime import timedelta

from asl_support import Clock, FakeSleep, definition, details, run, types


def test_pass_result_is_placed_by_result_path():
    # The guide's Pass example: Result placed at $.coords, the input kept.
    machine = definition(
        {
            "No-op": {
                "Type": "Pass",
                "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355},
                "ResultPath": "$.coords",
                "End": True,
            }
        }
    )
    given = {"georefOf": "Home"}
    assert run(machine, {}, given).output == {
        "georefOf": "Home",
        "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355},
    }


def test_pass_without_result_passes_its_parameters():
    machine = definition({"Shape": {"Type": "Pass", "Parameters": {"id.$": "$.a"}, "End": True}})
    assert run(machine, {}, {"a": 1, "b": 2}).output == {"id": 1}


def test_wait_seconds_are_scaled_and_timestamp_waits_count_from_now():
    clock = Clock()
    later = (clock.now + timedelta(seconds=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    machine = definition(
        {
            "Fixed": {"Type": "Wait", "Seconds": 10, "Next": "FromInput"},
            "FromInput": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Until"},
            "Until": {"Type": "Wait", "TimestampPath": "$.until", "End": True},
        }
    )
    sleep = FakeSleep()
    result = run(
        machine, {}, {"pause": 3, "until": later}, sleep=sleep, time_scale=0.5, clock=clock
    )
    assert result.status == "SUCCEEDED"
    assert sleep.waits[:2] == [5.0, 1.5]
    assert 49 < sleep.waits[2] <= 50  # about 100 s from the clock's now, halved
    assert types(result)[1:3] == ["WaitStateEntered", "WaitStateExited"]


def test_succeed_applies_output_path():
    machine = definition({"Done": {"Type": "Succeed", "OutputPath": "$.keep"}})
    result = run(machine, {}, {"keep": {"k": 1}, "drop": 2})
    assert result.output == {"k": 1}
    assert types(result) == [
        "ExecutionStarted",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_fail_state_sets_error_and_cause():
    machine = definition(
        {"Stop": {"Type": "Fail", "Error": "ErrorA", "Cause": "Invalid response."}}
    )
    result = run(machine, {})
    assert (result.status, result.error, result.cause) == ("FAILED", "ErrorA", "Invalid response.")
    assert types(result) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert details(result, "ExecutionFailed") == [{"error": "ErrorA", "cause": "Invalid response."}]


def test_fail_state_error_path_and_cause_path_with_an_intrinsic():
    machine = definition(
        {
            "Stop": {
                "Type": "Fail",
                "ErrorPath": "$.code",
                "CausePath": "States.Format('file {} rejected', $.key)",
            }
        }
    )
    result = run(machine, {}, {"code": "Validation.Rejected", "key": "a.csv"})
    assert (result.error, result.cause) == ("Validation.Rejected", "file a.csv rejected")


def test_fail_state_without_error_or_cause_records_neither():
    result = run(definition({"Stop": {"Type": "Fail"}}), {})
    assert result.status == "FAILED"
    assert details(result, "ExecutionFailed") == [{}]
