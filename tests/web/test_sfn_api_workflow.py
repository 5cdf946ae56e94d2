"""The Step Functions API over whole workflows (real Spark): redrive of a failed execution after
its cause is fixed, AWS's refusal to redrive a succeeded one, and StopExecution of a running
one. Run under the Spark lock (see conftest)."""

from __future__ import annotations

import pytest

from .web_support import (
    api_call,
    assert_response_fits,
    block_staging,
    finished,
    good_export,
    sfn_client,
    wait_for,
)

pytestmark = pytest.mark.e2e


def test_a_failed_execution_is_redriven_through_boto3_after_its_cause_is_fixed(
    spark_web, spark_lake, tmp_path
):
    sfn = sfn_client(spark_web.url)
    # GIVEN an execution that failed at Transform for a reason outside the file
    blocker = block_staging(spark_lake)
    name = spark_lake.upload(
        good_export(tmp_path / "2019-q3.csv"), "travel_times/bogota/2019-q3.csv"
    )
    arn = finished(spark_lake, name).arn
    failed = sfn.describe_execution(executionArn=arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "States.TaskFailed")
    assert failed["redriveStatus"] == "REDRIVABLE"
    # WHEN the cause is removed and the execution redriven, as a script for AWS would
    blocker.unlink()
    redriven = sfn.redrive_execution(executionArn=arn)
    # THEN it continues at Transform and succeeds, without validating again
    assert redriven["redriveDate"] >= failed["stopDate"]
    finished(spark_lake, name)
    described = assert_response_fits(
        "DescribeExecution", api_call(spark_web.url, "DescribeExecution", {"executionArn": arn})
    )
    assert (described["status"], described["redriveCount"]) == ("SUCCEEDED", 1)
    events = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    events = [e for page in events for e in page["events"]]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    assert entered.count("Validate") == 1 and entered.count("Transform") == 2
    assert [e["type"] for e in events].count("ExecutionRedriven") == 1
    # AND now that it succeeded, AWS's refusal: ExecutionNotRedrivable, with the reason
    assert described["redriveStatus"] == "NOT_REDRIVABLE"
    assert "SUCCEEDED" in described["redriveStatusReason"]
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable, match="SUCCEEDED"):
        sfn.redrive_execution(executionArn=arn)
    # AND it is listed as redriven
    listed = sfn.list_executions(
        stateMachineArn=spark_lake.home.state_machine_arn, redriveFilter="REDRIVEN"
    )
    assert [e["name"] for e in listed["executions"]] == [name]


def test_stop_execution_aborts_a_running_execution(spark_web, spark_lake, tmp_path):
    sfn = sfn_client(spark_web.url)
    # GIVEN an execution that has reached its Glue job
    name = spark_lake.upload(
        good_export(tmp_path / "2019-q4.csv", seed=2), "travel_times/bogota/2019-q4.csv"
    )
    arn = spark_lake.execution(name).arn
    wait_for(
        lambda: any(
            e.get("stateEnteredEventDetails", {}).get("name") == "Transform"
            for e in spark_lake.history(name)
        ),
        what="the execution to reach Transform",
    )
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    # (StartExecution with its name and input answers with it, as AWS does while it runs;
    # with another input the name is taken)
    machine = spark_lake.home.state_machine_arn
    same = spark_lake.execution(name).input
    again = sfn.start_execution(stateMachineArn=machine, name=name, input=same)
    assert again["executionArn"] == arn
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=machine, name=name, input="{}")
    # WHEN it is stopped
    stopped = sfn.stop_execution(executionArn=arn, error="Operator.Stopped", cause="by a test")
    # THEN it ends ABORTED at its next state boundary, with the given error and cause
    record = finished(spark_lake, name)
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"], described["cause"]) == (
        "ABORTED",
        "Operator.Stopped",
        "by a test",
    )
    assert described["stopDate"] >= stopped["stopDate"].replace(microsecond=0)
    assert record.status == "ABORTED"
    # AND, aborted, it can be redriven (AWS redrives FAILED, TIMED_OUT and ABORTED)
    assert described["redriveStatus"] == "REDRIVABLE"
