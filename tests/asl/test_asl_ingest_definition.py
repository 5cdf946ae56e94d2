"""The project's own definition, state_machines/ingest_travel_times.asl.json, under the
interpreter with fake integrations: it loads, runs to the expected output, fails AT the Glue
state, and a redrive resumes there without calling the Lambda again."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from asl_support import Clock, FakeSleep, Script, details, failing

from lake.asl import Executor, TaskFailure, load_definition

DEFINITION = Path(__file__).resolve().parents[2] / "state_machines" / "ingest_travel_times.asl.json"
SUBSTITUTIONS = {
    "ValidateFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:validate",
    "TransformJobName": "movement-lake-transform",
    "CuratedBucket": "movement-lake-curated",
    "AthenaWorkGroup": "movement-lake",
    "Database": "movement_lake",
}
LAMBDA = "arn:aws:states:::lambda:invoke"
GLUE = "arn:aws:states:::glue:startJobRun.sync"
S3_GET = "arn:aws:states:::aws-sdk:s3:getObject"
ATHENA = "arn:aws:states:::athena:startQueryExecution.sync"
MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:ingest-travel-times"
EVENT = {
    "version": "0",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "detail": {
        "bucket": {"name": "movement-lake-raw"},
        "object": {"key": "travel_times/london/london-2020-1.csv", "size": 1234},
    },
}
SOURCE = {
    "bucket": "movement-lake-raw",
    "key": "travel_times/london/london-2020-1.csv",
    "city": "london",
    "source_path": "s3://movement-lake-raw/travel_times/london/london-2020-1.csv",
    "size": 1234,
}
SUMMARY = {
    "rows": {"written": 10},
    "register_statements": ["manifests/exec-1/register-0001.sql"],
}
STATEMENT = "ALTER TABLE travel_times ADD IF NOT EXISTS PARTITION (city='london', ...)"
JOB_RUN = {
    "Id": "jr_1",
    "JobRunState": "SUCCEEDED",
    "ExecutionTime": 42,
    "JobName": "movement-lake-transform",
}
QUERY = {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"}}}


@pytest.fixture
def machine():
    return load_definition(DEFINITION, SUBSTITUTIONS)


def _fakes(glue=None):
    return {
        LAMBDA: Script({"ExecutedVersion": "$LATEST", "Payload": SOURCE, "StatusCode": 200}),
        GLUE: glue or Script(JOB_RUN),
        S3_GET: Script(
            {"Body": json.dumps(SUMMARY), "ContentType": "application/json"},
            {"Body": STATEMENT, "ContentType": "text/plain"},
        ),
        ATHENA: Script(QUERY),
    }


def _executor(machine, fakes, **kwargs):
    return Executor(
        machine, fakes, sleep=FakeSleep(), rng=random.Random(5), clock=Clock(), **kwargs
    )


def _start(executor, name="exec-1"):
    return executor.start(
        execution_arn=f"{MACHINE_ARN.replace('stateMachine', 'execution')}:{name}",
        name=name,
        input=EVENT,
        state_machine_arn=MACHINE_ARN,
    )


def test_the_project_definition_loads_and_names_four_integrations(machine):
    assert machine.start_at == "Validate"
    assert machine.resources() == {LAMBDA, GLUE, S3_GET, ATHENA}


def test_a_run_with_fake_integrations_produces_the_expected_output(machine):
    fakes = _fakes()
    result = _start(_executor(machine, fakes))
    assert result.status == "SUCCEEDED"
    assert result.output == {
        **EVENT,
        "validated": SOURCE,
        "transform": {"job_run_id": "jr_1", "state": "SUCCEEDED", "execution_time_s": 42},
        "job": {"summary": SUMMARY},
        "registration": {"statements": 1},
    }
    # what each integration was asked, after Parameters, context paths and intrinsics
    assert fakes[LAMBDA].requests[0].parameters == {
        "FunctionName": SUBSTITUTIONS["ValidateFunctionArn"],
        "Payload": EVENT,
    }
    assert fakes[GLUE].requests[0].parameters == {
        "JobName": "movement-lake-transform",
        "Arguments": {
            "--source_path": SOURCE["source_path"],
            "--source_key": SOURCE["key"],
            # the event's object (version and sequencer included, when S3 sends them)
            "--source_object": json.dumps(EVENT["detail"]["object"], separators=(",", ":")),
            "--manifest_path": "s3://movement-lake-curated/manifests/exec-1/manifest.json",
        },
    }
    assert [r.parameters for r in fakes[S3_GET].requests] == [
        {"Bucket": "movement-lake-curated", "Key": "manifests/exec-1/summary.json"},
        {"Bucket": "movement-lake-curated", "Key": "manifests/exec-1/register-0001.sql"},
    ]
    assert fakes[ATHENA].requests[0].parameters == {
        "QueryString": STATEMENT,
        "WorkGroup": "movement-lake",
        "QueryExecutionContext": {"Database": "movement_lake"},
    }
    assert fakes[LAMBDA].requests[0].timeout_seconds == 300
    assert [d["name"] for d in details(result, "TaskStateEntered")] == [
        "Validate",
        "Transform",
        "ReadManifest",
        "ReadStatement",  # one Map iteration per registration statement
        "RunStatement",
    ]
    assert [d["name"] for d in details(result, "MapStateEntered")] == ["RegisterPartitions"]


def test_a_failed_glue_run_fails_the_execution_at_transform_and_a_redrive_resumes_there(machine):
    # GIVEN a Glue run that fails (States.TaskFailed with the job run as cause, as AWS reports)
    failed_run = {**JOB_RUN, "JobRunState": "FAILED", "ErrorMessage": "curated folder not writable"}
    glue = Script(TaskFailure("States.TaskFailed", json.dumps(failed_run)))
    fakes = _fakes(glue)
    first = _start(_executor(machine, fakes))
    # THEN the execution fails AT Transform with that error and cause: no retry for it
    assert (first.status, first.failed_state, first.error) == (
        "FAILED",
        "Transform",
        "States.TaskFailed",
    )
    assert json.loads(first.cause)["ErrorMessage"] == "curated folder not writable"
    assert glue.calls == 1
    # WHEN the cause is fixed and the execution redriven
    glue.outcomes = [JOB_RUN]
    result = _executor(machine, fakes).redrive(
        first.events,
        execution_arn=f"{MACHINE_ARN.replace('stateMachine', 'execution')}:exec-1",
        name="exec-1",
        state_machine_arn=MACHINE_ARN,
    )
    # THEN it resumes at Transform, does not call the validate Lambda again, and succeeds
    assert result.status == "SUCCEEDED"
    assert fakes[LAMBDA].calls == 1 and glue.calls == 2
    assert result.output["transform"]["job_run_id"] == "jr_1"
    redriven = [e["type"] for e in result.events[len(first.events) :]]
    assert redriven[:2] == ["ExecutionRedriven", "TaskStateEntered"]
    assert details(result, "TaskStateEntered")[-4]["name"] == "Transform"


def test_glue_throttling_is_retried_with_full_jitter_under_the_definitions_cap(machine):
    glue = Script(failing("Glue.ThrottlingException"), failing("Glue.ThrottlingException"), JOB_RUN)
    sleep = FakeSleep()
    fakes = _fakes(glue)
    executor = Executor(machine, fakes, sleep=sleep, rng=random.Random(11), clock=Clock())
    result = _start(executor)
    assert result.status == "SUCCEEDED" and glue.calls == 3
    assert len(sleep.waits) == 2
    retrier = machine.states["Transform"]["Retry"][0]
    first_cap = retrier["IntervalSeconds"]
    assert 0 <= sleep.waits[0] <= first_cap and 0 <= sleep.waits[1] <= 2 * first_cap
