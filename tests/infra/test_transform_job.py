"""The Glue 5.1 job: sizes from cdk.json with auto scaling up to them, job run queuing for bursts,
the arguments the script reads, encrypted logs and bookmarks through a security configuration, no
Glue-level retries, and assets that ship exactly the `glue` and `contract` packages."""

from __future__ import annotations

import json

import pytest
from infra_support import as_list, synthesized

from settings import STATE_MACHINE_FILE, load_settings

pytestmark = pytest.mark.infra


def job() -> dict:
    return synthesized().only("AWS::Glue::Job")


def test_the_job_is_glue_5_1_spark_python_3_sized_from_the_context():
    settings = load_settings()
    props = job()
    assert props["Name"] == settings.transform_job_name
    assert props["GlueVersion"] == "5.1"
    assert props["Command"]["Name"] == "glueetl"
    assert props["Command"]["PythonVersion"] == "3"
    assert props["WorkerType"] == settings.glue_worker_type
    assert props["NumberOfWorkers"] == settings.glue_number_of_workers
    assert props["Timeout"] == settings.glue_timeout_minutes
    assert props["ExecutionProperty"] == {"MaxConcurrentRuns": settings.glue_max_concurrent_runs}
    assert props["MaxRetries"] == 0  # the state machine owns retries


def test_the_job_scales_up_to_the_configured_workers_and_queues_bursts():
    settings = load_settings()
    props = job()
    assert props["DefaultArguments"]["--enable-auto-scaling"] == "true"
    assert props["NumberOfWorkers"] == settings.glue_number_of_workers  # the maximum
    assert props["JobRunQueuingEnabled"] is True
    # What Glue requires of a job whose runs may queue.
    assert props["ExecutionClass"] == "STANDARD"
    assert props["MaxRetries"] == 0


def test_the_workflow_retries_only_what_queuing_does_not_cover():
    definition = json.loads(STATE_MACHINE_FILE.read_text())
    retried = {e for r in definition["States"]["Transform"]["Retry"] for e in r["ErrorEquals"]}
    assert "Glue.ConcurrentRunsExceededException" not in retried  # a queued run waits instead
    assert {"Glue.ThrottlingException", "Glue.InternalServiceException"} <= retried
    assert not retried & {"States.ALL", "States.TaskFailed"}  # a failed run is never repeated


def test_the_default_arguments_carry_the_lake_and_observability_settings():
    synth = synthesized()
    settings = load_settings()
    args = job()["DefaultArguments"]
    assert args["--curated_path"] == {
        "Fn::Join": ["", ["s3://", synth.ref(synth.stack.buckets.curated), "/"]]
    }
    assert args["--database"] == settings.database
    assert args["--table"] == settings.table
    assert float(args["--reject_threshold"]) == settings.reject_threshold
    for flag in (
        "--enable-continuous-cloudwatch-log",
        "--enable-metrics",
        "--enable-observability-metrics",
    ):
        assert args[flag] == "true"
    assert args["--extra-py-files"]["Fn::Sub"].endswith(".zip")
    # Per-run arguments come from the state machine, not from defaults.
    assert not {"--source_path", "--source_key", "--manifest_path"} & set(args)


def test_the_security_configuration_encrypts_logs_and_bookmarks_with_kms():
    synth = synthesized()
    config = synth.only("AWS::Glue::SecurityConfiguration")
    assert job()["SecurityConfiguration"] == config["Name"]
    encryption = config["EncryptionConfiguration"]
    key = {"Fn::GetAtt": [synth.logical_id(synth.stack.transform_job.key), "Arn"]}
    assert encryption["CloudWatchEncryption"] == {
        "CloudWatchEncryptionMode": "SSE-KMS",
        "KmsKeyArn": key,
    }
    assert encryption["JobBookmarksEncryption"] == {
        "JobBookmarksEncryptionMode": "CSE-KMS",
        "KmsKeyArn": key,
    }
    assert encryption["S3Encryptions"] == [{"S3EncryptionMode": "SSE-S3"}]


def test_the_jobs_log_groups_exist_with_retention_and_the_key():
    synth = synthesized()
    prefix = job()["DefaultArguments"]["--custom-logGroup-prefix"]
    groups = {
        props["Properties"]["LogGroupName"]: props["Properties"]
        for props in synth.resources("AWS::Logs::LogGroup").values()
    }
    for stream in ("error", "output"):
        group = groups[f"{prefix}/{stream}"]
        assert group["RetentionInDays"] == load_settings().log_retention_days
        key = synth.logical_id(synth.stack.transform_job.key)
        assert group["KmsKeyId"] == {"Fn::GetAtt": [key, "Arn"]}


def test_the_py_files_zip_holds_exactly_the_glue_and_contract_packages():
    synth = synthesized()
    folder = synth.asset_folder(job()["DefaultArguments"]["--extra-py-files"]["Fn::Sub"])
    top = {p.name for p in folder.iterdir()}
    assert top == {"glue", "contract"}
    assert (folder / "contract" / "layout.py").is_file()
    assert (folder / "glue" / "__init__.py").is_file()
    # subpackages ship too: the job imports glue.object_store's local and S3 stores
    for module in ("__init__.py", "base.py", "local.py", "s3.py"):
        assert (folder / "glue" / "object_store" / module).is_file()
    assert not list(folder.rglob("__pycache__"))


def test_the_job_role_reads_only_raw_exports_and_writes_only_the_lake_prefixes():
    synth = synthesized()
    statements = synth.policy_statements(synth.stack.transform_job.role)
    raw_arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.buckets.raw), "Arn"]}
    by_sid = {s.get("Sid"): s for s in statements}
    assert sorted(by_sid["ReadRawExports"]["Action"]) == ["s3:GetObject", "s3:GetObjectVersion"]
    assert by_sid["ReadRawExports"]["Resource"] == {"Fn::Join": ["", [raw_arn, "/travel_times/*"]]}
    written = {r["Fn::Join"][1][1] for r in as_list(by_sid["WriteTheLake"]["Resource"])}
    assert written == {
        "/travel_times/*",
        "/rejects/travel_times/*",
        "/_staging*",
        "/_commits/travel_times/*",
        "/manifests/*",
    }
    # The raw bucket is never written by the job.
    for statement in statements:
        if any(a in as_list(statement["Action"]) for a in ("s3:PutObject", "s3:DeleteObject")):
            assert json.dumps(raw_arn) not in json.dumps(statement["Resource"])
    metrics = by_sid["PublishJobMetrics"]
    assert metrics["Resource"] == "*"
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}
