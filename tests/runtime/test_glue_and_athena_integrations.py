"""`glue:startJobRun.sync` and `athena:startQueryExecution.sync` played locally: what the
workflow sees (the JobRun / QueryExecution shapes) and how failures are named."""

from __future__ import annotations

import json

import pytest

from lake.asl import TaskFailure, TaskRequest
from lake.aws.athena import AthenaStartQueryExecution
from lake.aws.glue import GlueStartJobRun
from lake.home import LakeHome

SCRIPT = """
import json, sys
from pathlib import Path
args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
Path(args["--out"]).write_text(json.dumps({"argv0": sys.argv[0], "args": args}))
if args.get("--fail"):
    raise RuntimeError("the curated folder is not writable")
"""


def _glue_request(home: LakeHome, **arguments: str) -> TaskRequest:
    return TaskRequest(
        resource="arn:aws:states:::glue:startJobRun.sync",
        parameters={"JobName": home.settings.transform_job_name, "Arguments": arguments},
        state_name="Transform",
        context={"Execution": {"Name": "exec-1"}},
        timeout_seconds=None,
    )


@pytest.fixture
def glue(tmp_path):
    home = LakeHome(tmp_path / "home").ensure()
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    return home, GlueStartJobRun(home, script, ensure_spark=lambda: None)


def test_the_script_gets_the_jobs_default_and_run_arguments_with_local_paths(glue, tmp_path):
    home, run = glue
    out = tmp_path / "seen.json"
    result = run(
        _glue_request(home, **{"--source_path": "s3://movement-lake-raw/k.csv", "--out": str(out)})
    )
    seen = json.loads(out.read_text())["args"]
    assert seen["--source_path"] == (home.buckets / "movement-lake-raw" / "k.csv").as_uri()
    assert seen["--curated_path"] == (home.buckets / "movement-lake-curated").as_uri() + "/"
    assert seen["--database"] == home.settings.database
    assert result["JobRunState"] == "SUCCEEDED"
    assert result["Id"].startswith("jr_") and isinstance(result["ExecutionTime"], int)
    assert result["Arguments"]["--source_path"] == "s3://movement-lake-raw/k.csv"


def test_a_failing_script_is_a_failed_job_run_as_step_functions_reports_it(glue, tmp_path):
    home, run = glue
    with pytest.raises(TaskFailure) as failure:
        run(_glue_request(home, **{"--out": str(tmp_path / "o.json"), "--fail": "1"}))
    assert failure.value.error == "States.TaskFailed"
    job_run = json.loads(failure.value.cause)
    assert job_run["JobRunState"] == "FAILED"
    assert job_run["ErrorMessage"] == "RuntimeError: the curated folder is not writable"
    assert "the curated folder is not writable" in home.execution_log("exec-1").read_text()


def test_an_unknown_job_is_entity_not_found(glue):
    home, run = glue
    request = _glue_request(home)
    request.parameters["JobName"] = "someone-elses-job"
    with pytest.raises(TaskFailure) as failure:
        run(request)
    assert failure.value.error == "Glue.EntityNotFoundException"


@pytest.mark.spark
def test_athena_runs_the_query_verbatim_and_reports_failures_with_the_reason(spark, tmp_path):
    home = LakeHome(tmp_path).ensure()
    athena = AthenaStartQueryExecution(home, lambda: spark)

    def request(sql: str) -> TaskRequest:
        return TaskRequest(
            resource="arn:aws:states:::athena:startQueryExecution.sync",
            parameters={
                "QueryString": sql,
                "WorkGroup": "movement-lake",
                "QueryExecutionContext": {"Database": "default"},
            },
            state_name="RegisterPartitions",
            context={"Execution": {"Name": "e"}},
            timeout_seconds=None,
        )

    ok = athena(request("SELECT 1 AS one"))["QueryExecution"]
    assert ok["Status"]["State"] == "SUCCEEDED" and ok["Query"] == "SELECT 1 AS one"
    assert home.local_path(ok["ResultConfiguration"]["OutputLocation"]).read_text().split() == [
        "one",
        "1",
    ]
    with pytest.raises(TaskFailure) as failure:
        athena(request("ALTER TABLE no_such_table ADD IF NOT EXISTS PARTITION (city='x')"))
    assert failure.value.error == "States.TaskFailed"
    status = json.loads(failure.value.cause)["QueryExecution"]["Status"]
    assert status["State"] == "FAILED"
    assert "no_such_table" in status["StateChangeReason"]
