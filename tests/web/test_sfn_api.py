"""The Step Functions API through the real clients (boto3, raw JSON 1.0, the AWS CLI) against a
`start_web` server over a real lake home. Every execution here fails at Validate (a Latin-1
file), which runs the real workflow with no Spark work."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .web_support import (
    api_call,
    assert_response_fits,
    finished,
    http,
    latin1_export,
    sfn_client,
)

INGEST = "movement-lake-ingest"


def failed_uploads(lake, tmp_path: Path, count: int) -> list[str]:
    """`count` uploads that fail at Validate, oldest first (each ended before the next)."""
    names = []
    for i in range(count):
        source = latin1_export(tmp_path / f"q{i}.csv")
        name = lake.upload(source, f"travel_times/bogota/q{i}.csv")
        finished(lake, name)
        names.append(name)
    return names


@pytest.fixture
def sfn(quiet_web):
    return sfn_client(quiet_web.url)


@pytest.fixture
def machine_arn(sfn):
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == INGEST]
    return machine["stateMachineArn"]


def test_state_machines_are_listed_and_described_as_aws_does(quiet_web, sfn, quiet_lake):
    # WHEN the state machines are listed and the ingest one described
    listed = assert_response_fits(
        "ListStateMachines", api_call(quiet_web.url, "ListStateMachines", {})
    )
    arn = quiet_lake.home.state_machine_arn
    described = assert_response_fits(
        "DescribeStateMachine",
        api_call(quiet_web.url, "DescribeStateMachine", {"stateMachineArn": arn}),
    )
    # THEN the ingest workflow is there, with the very definition the runtime executes
    assert {"stateMachineArn": arn, "name": INGEST, "type": "STANDARD"}.items() <= listed[
        "stateMachines"
    ][0].items()
    definition = json.loads(described["definition"])
    assert definition == quiet_lake.state_machine(arn).definition.raw
    assert definition["StartAt"] == "Validate"
    # AND boto3 reads the same (timestamps as datetimes)
    assert sfn.describe_state_machine(stateMachineArn=arn)["creationDate"].year >= 2024


def test_a_failed_execution_is_described_with_aws_fields(quiet_web, sfn, quiet_lake, tmp_path):
    # GIVEN an upload that failed at Validate
    [name] = failed_uploads(quiet_lake, tmp_path, 1)
    record = quiet_lake.execution(name)
    # WHEN it is described, through boto3 and raw
    described = sfn.describe_execution(executionArn=record.arn)
    raw = assert_response_fits(
        "DescribeExecution",
        api_call(quiet_web.url, "DescribeExecution", {"executionArn": record.arn}),
    )
    # THEN it says what AWS would: status, error, cause, input, redrive status
    assert described["status"] == "FAILED" == raw["status"]
    assert described["name"] == name
    assert described["error"] == "NotUtf8"
    assert "travel_times/bogota/q0.csv" in described["cause"]
    assert json.loads(described["input"])["detail"]["object"]["key"] == "travel_times/bogota/q0.csv"
    assert described["redriveStatus"] == "REDRIVABLE"  # AWS redrives any FAILED (14 days)
    assert described["stopDate"] >= described["startDate"]
    # AND METADATA_ONLY leaves the input out
    metadata = sfn.describe_execution(executionArn=record.arn, includedData="METADATA_ONLY")
    assert "input" not in metadata
    # AND its history begins and ends as Step Functions' does
    events = sfn.get_execution_history(executionArn=record.arn)["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionFailed"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert_response_fits(
        "GetExecutionHistory",
        api_call(quiet_web.url, "GetExecutionHistory", {"executionArn": record.arn}),
    )


def test_executions_are_listed_newest_first_in_pages(sfn, machine_arn, quiet_lake, tmp_path):
    # GIVEN five failed executions
    names = failed_uploads(quiet_lake, tmp_path, 5)
    # WHEN they are listed two at a time
    pages, token = [], None
    while True:
        page = sfn.list_executions(
            stateMachineArn=machine_arn, maxResults=2, **({"nextToken": token} if token else {})
        )
        pages.append([e["name"] for e in page["executions"]])
        token = page.get("nextToken")
        if not token:
            break
    # THEN three pages hold all of them once, newest first
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [name for page in pages for name in page] == list(reversed(names))
    # AND boto3's paginator walks the same pages
    paginator = sfn.get_paginator("list_executions")
    walked = paginator.paginate(stateMachineArn=machine_arn, PaginationConfig={"PageSize": 2})
    assert [e["name"] for page in walked for e in page["executions"]] == list(reversed(names))
    # AND the filters filter
    assert (
        len(sfn.list_executions(stateMachineArn=machine_arn, statusFilter="FAILED")["executions"])
        == 5
    )
    assert (
        sfn.list_executions(stateMachineArn=machine_arn, statusFilter="SUCCEEDED")["executions"]
        == []
    )
    assert (
        sfn.list_executions(stateMachineArn=machine_arn, redriveFilter="REDRIVEN")["executions"]
        == []
    )


def test_history_pages_forward_and_backward(sfn, quiet_lake, tmp_path):
    [name] = failed_uploads(quiet_lake, tmp_path, 1)
    arn = quiet_lake.execution(name).arn
    everything = sfn.get_execution_history(executionArn=arn)["events"]

    def walk(**options):
        events, token = [], None
        while True:
            page = sfn.get_execution_history(
                executionArn=arn, maxResults=3, **options, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    assert [e["id"] for e in walk()] == [e["id"] for e in everything]
    assert [e["id"] for e in walk(reverseOrder=True)] == [e["id"] for e in reversed(everything)]
    # includeExecutionData=False: the events without the inputs and outputs they carry
    bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    started = bare[0]["executionStartedEventDetails"]
    assert "input" not in started and started["roleArn"]
    assert "input" in everything[0]["executionStartedEventDetails"]


def test_page_tokens_cannot_be_forged_or_moved(sfn, machine_arn, quiet_lake, tmp_path):
    names = failed_uploads(quiet_lake, tmp_path, 2)
    token = sfn.list_executions(stateMachineArn=machine_arn, maxResults=1)["nextToken"]
    for forged in (token[:-2] + "xx", "not-a-token"):
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.list_executions(stateMachineArn=machine_arn, maxResults=1, nextToken=forged)
    with pytest.raises(sfn.exceptions.InvalidToken, match="another request"):
        sfn.list_executions(stateMachineArn=machine_arn, statusFilter="FAILED", nextToken=token)
    history_token = sfn.get_execution_history(
        executionArn=quiet_lake.execution(names[0]).arn, maxResults=1
    )["nextToken"]
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.get_execution_history(
            executionArn=quiet_lake.execution(names[1]).arn, nextToken=history_token
        )


def test_aws_errors_for_missing_things_and_bad_requests(sfn, machine_arn, quiet_web):
    missing = machine_arn.replace(":stateMachine:", ":execution:") + ":no-such-execution"
    for call in (
        lambda: sfn.describe_execution(executionArn=missing),
        lambda: sfn.get_execution_history(executionArn=missing),
        lambda: sfn.stop_execution(executionArn=missing),
        lambda: sfn.redrive_execution(executionArn=missing),
    ):
        with pytest.raises(sfn.exceptions.ExecutionDoesNotExist, match="no-such-execution"):
            call()
    other_machine = machine_arn.rsplit(":", 1)[0] + ":no-such-machine"
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=other_machine)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.list_executions(stateMachineArn=other_machine)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn="movement-lake-ingest")
    with pytest.raises(sfn.exceptions.ValidationException, match="less than or equal to 1000"):
        sfn.list_executions(stateMachineArn=machine_arn, maxResults=5000)
    with pytest.raises(sfn.exceptions.ValidationException, match="stateMachineArn"):
        sfn.list_executions()
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=machine_arn, name="two words")
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=machine_arn, input="{not json")
    # A request botocore would never send: a wrong type, an unknown operation
    response = api_call(quiet_web.url, "ListExecutions", {"maxResults": "ten"})
    assert response.status == 400
    assert json.loads(response.data)["__type"] == "ValidationException"
    response = api_call(quiet_web.url, "DeleteStateMachine", {"stateMachineArn": machine_arn})
    assert json.loads(response.data)["__type"] == "UnknownOperationException"


def test_start_execution_runs_the_workflow_and_refuses_a_used_name(
    sfn, machine_arn, quiet_lake, tmp_path
):
    # GIVEN a failed upload, and its input (what the README's re-run recipe reads)
    [name] = failed_uploads(quiet_lake, tmp_path, 1)
    first = quiet_lake.execution(name)
    event = sfn.describe_execution(executionArn=first.arn)["input"]
    # WHEN a new execution is started with that input and a name
    started = sfn.start_execution(stateMachineArn=machine_arn, name="by-hand-1", input=event)
    # THEN it runs the workflow (and fails at Validate, as the file still is Latin-1)
    assert started["executionArn"] == first.arn.rsplit(":", 1)[0] + ":by-hand-1"
    record = finished(quiet_lake, "by-hand-1")
    assert (record.status, record.error) == ("FAILED", "NotUtf8")
    # AND the name cannot be used again
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=machine_arn, name="by-hand-1", input=event)


def test_stopping_an_ended_execution_changes_nothing(sfn, quiet_lake, tmp_path):
    [name] = failed_uploads(quiet_lake, tmp_path, 1)
    arn = quiet_lake.execution(name).arn
    before = sfn.describe_execution(executionArn=arn)
    stopped = sfn.stop_execution(executionArn=arn, error="Operator", cause="too late")
    assert stopped["stopDate"] == before["stopDate"]
    after = sfn.describe_execution(executionArn=arn)
    assert (after["status"], after["error"]) == ("FAILED", "NotUtf8")


def test_the_aws_cli_lists_and_describes_executions(quiet_web, quiet_lake, tmp_path):
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed (pip install awscli, the dev extra pins it)")
    [name] = failed_uploads(quiet_lake, tmp_path, 1)
    arn = quiet_lake.execution(name).arn
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "anything",
        "AWS_SECRET_ACCESS_KEY": "anything",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }

    def aws_cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [aws, "stepfunctions", *args, "--endpoint-url", quiet_web.url, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    done = aws_cli("describe-execution", "--execution-arn", arn)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "FAILED"
    listed = aws_cli("list-executions", "--state-machine-arn", quiet_lake.home.state_machine_arn)
    assert [e["name"] for e in json.loads(listed.stdout)["executions"]] == [name]
    missing = aws_cli("describe-execution", "--execution-arn", arn + "-nope")
    assert missing.returncode != 0
    assert "ExecutionDoesNotExist" in missing.stderr


def test_a_body_that_is_not_a_json_object_is_a_client_error(quiet_web):
    for body in (b"[]", b"{", b"null", b"\xff"):
        response = http.request(
            "POST",
            quiet_web.url,
            body=body,
            headers={
                "X-Amz-Target": "AWSStepFunctions.ListExecutions",
                "Content-Type": "application/x-amz-json-1.0",
            },
        )
        assert response.status == 400, body
        assert json.loads(response.data)["__type"] == "SerializationException"


def test_the_readme_boto3_example_runs_against_the_console(quiet_web, quiet_lake, tmp_path):
    # GIVEN a failed execution, and the README's example pointed at this console
    [name] = failed_uploads(quiet_lake, tmp_path, 1)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    console = readme[readme.index("## Console") :]
    example = re.search(r"```python\n(.*?)```", console, re.S).group(1)
    assert 'endpoint_url="http://127.0.0.1:8080/"' in example
    example = example.replace("http://127.0.0.1:8080/", quiet_web.url)
    # WHEN it runs
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example, "README.md", "exec"), {})
    # THEN it printed the failure's cause and redrove the execution
    assert printed.getvalue().startswith(f"{name} ")
    assert "is not UTF-8" in printed.getvalue()
    assert finished(quiet_lake, name).redrive_count == 1
