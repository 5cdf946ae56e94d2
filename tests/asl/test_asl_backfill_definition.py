"""The project's backfill definition, state_machines/backfill_travel_times.asl.json, under the
interpreter with fake integrations (no Spark, no lake home): it lists the prefix, starts the
ingest workflow once per export with the S3 event an upload sends, skips what only_failed says is
published already, bounds concurrency, tolerates failures up to its threshold and writes its
results to the curated bucket."""

from __future__ import annotations

import json
import threading

import pytest
from asl_support import Clock, FakeSleep

import settings
from contract.events import object_created_rule_pattern
from functions.validate import object_from_event
from lake.asl import Executor, TaskFailure, load_definition
from lake.aws.event_patterns import matches

RAW, CURATED = "movement-lake-raw", "movement-lake-curated"
INGEST_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:movement-lake-ingest"
MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:movement-lake-backfill"
EXECUTION_ARN = "arn:aws:states:eu-west-1:123456789012:execution:movement-lake-backfill:b-1"
SUBSTITUTIONS = {
    "RawBucket": RAW,
    "CuratedBucket": CURATED,
    "IngestStateMachineArn": INGEST_ARN,
    "DefaultMaxConcurrency": "3",
}
LIST = "arn:aws:states:::s3:listObjectsV2"
GET = "arn:aws:states:::s3:getObject"
PUT = "arn:aws:states:::s3:putObject"
SDK_GET = "arn:aws:states:::aws-sdk:s3:getObject"
START = "arn:aws:states:::states:startExecution.sync:2"


class FakeLake:
    """The raw bucket's listing, the curated bucket's objects and the ingest workflow."""

    def __init__(self, raw: dict[str, str], failing: set[str] = frozenset()) -> None:
        self.raw = raw  # key -> ETag as S3 lists it (quoted)
        self.curated: dict[str, str] = {}
        self.failing = failing
        self.started: list[dict] = []
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def integrations(self) -> dict:
        return {
            LIST: self.list_objects,
            GET: self.get_result,
            PUT: self.put_result,
            SDK_GET: self.get_commit_record,
            START: self.start_ingest,
        }

    def list_objects(self, request):
        assert request.parameters["Bucket"] == RAW
        prefix = request.parameters.get("Prefix", "")
        keys = sorted(k for k in self.raw if k.startswith(prefix))
        contents = [
            {"Key": k, "Etag": self.raw[k], "Size": 10, "LastModified": 1, "StorageClass": "S"}
            for k in keys
        ]
        return {"Contents": contents, "IsTruncated": False}

    def get_result(self, request):
        return {"Body": self.curated[request.parameters["Key"]]}

    def put_result(self, request):
        assert request.parameters["Bucket"] == CURATED
        self.curated[request.parameters["Key"]] = request.parameters["Body"]
        return {}

    def get_commit_record(self, request):
        key = request.parameters["Key"]
        if request.parameters["Bucket"] != CURATED or key not in self.curated:
            raise TaskFailure("S3.NoSuchKeyException", "The specified key does not exist.")
        return {"Body": self.curated[key], "ETag": '"x"'}

    def commit(self, key: str, etag: str, **extra) -> None:
        """A commit record as the job writes it (contract: _commits/<source key>.json)."""
        record = {
            "source_key": key,
            "source_etag": etag,
            "version_id": "v1",
            "sequencer": "0055",
            "run_id": "jr_1",
            "committed_at": "2026-01-01T00:00:00Z",
            "files": [],
            **extra,
        }
        if etag is None:
            del record["source_etag"]
        self.curated[f"_commits/{key}.json"] = json.dumps(record)

    def start_ingest(self, request):
        params = request.parameters
        assert params["StateMachineArn"] == INGEST_ARN
        event = params["Input"]
        key = event["detail"]["object"]["key"]
        arn = INGEST_ARN.replace(":stateMachine:", ":execution:") + f":{len(self.started)}"
        with self.lock:
            self.started.append(event)
            self.running += 1
            self.peak = max(self.peak, self.running)
        request.submitted({"ExecutionArn": arn, "StartDate": 1})
        threading.Event().wait(0.02)  # long enough for siblings to overlap
        with self.lock:
            self.running -= 1
        described = {
            "ExecutionArn": arn,
            "StateMachineArn": INGEST_ARN,
            "Name": str(len(self.started)),
            "Input": event,
            "InputDetails": {"Included": True},
            "StartDate": 1,
            "StopDate": 2,
        }
        if key in self.failing:
            described |= {"Status": "FAILED", "Error": "NotUtf8", "Cause": "not UTF-8"}
            raise TaskFailure("States.TaskFailed", json.dumps(described))
        return described | {"Status": "SUCCEEDED", "Output": {"ok": True}}

    def ingested_keys(self) -> list[str]:
        return sorted(e["detail"]["object"]["key"] for e in self.started)


@pytest.fixture
def machine():
    return load_definition(settings.BACKFILL_STATE_MACHINE_FILE, SUBSTITUTIONS)


def backfill(machine, lake: FakeLake, input: dict):
    executor = Executor(machine, lake.integrations(), sleep=FakeSleep(), clock=Clock())
    return executor.start(
        execution_arn=EXECUTION_ARN, name="b-1", input=input, state_machine_arn=MACHINE_ARN
    )


BOGOTA = {
    "travel_times/bogota/2019-q1.csv": '"aaa"',
    "travel_times/bogota/2019-q2.csv.gz": '"bbb-2"',
    "travel_times/bogota/README.txt": '"ccc"',
}


def test_each_export_starts_the_ingest_workflow_with_the_event_an_upload_sends(machine):
    # GIVEN two exports and a file that is no export under the prefix, and one in another city
    lake = FakeLake({**BOGOTA, "travel_times/quito/a.csv": '"ddd"'})
    # WHEN the prefix is backfilled
    result = backfill(machine, lake, {"prefix": "travel_times/bogota/"})
    # THEN the ingest workflow ran once per export of that prefix, and nothing else
    assert result.status == "SUCCEEDED", result.cause
    assert lake.ingested_keys() == [
        "travel_times/bogota/2019-q1.csv",
        "travel_times/bogota/2019-q2.csv.gz",
    ]
    for event in lake.started:
        # AND its input is what the upload rule matches and what the validator reads
        assert matches(object_created_rule_pattern(RAW), event)
        ref = object_from_event(event)
        assert (ref.bucket, ref.key) == (RAW, event["detail"]["object"]["key"])
        # shaped as EventBridge delivers S3's event (tests/events/s3_object_created.json)
        assert (event["source"], event["detail-type"], event["version"]) == (
            "aws.s3",
            "Object Created",
            "0",
        )
        assert (event["account"], event["region"]) == ("123456789012", "eu-west-1")
        assert event["resources"] == [f"arn:aws:s3:::{RAW}"]
        assert event["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"].startswith(
            "arn:aws:states:eu-west-1:123456789012:execution:movement-lake-backfill/"
        )
    # AND the ETag travels without the quotes S3 lists it with
    etags = {e["detail"]["object"]["key"]: e["detail"]["object"]["etag"] for e in lake.started}
    assert etags == {
        "travel_times/bogota/2019-q1.csv": "aaa",
        "travel_times/bogota/2019-q2.csv.gz": "bbb-2",
    }


def test_results_are_written_to_the_curated_bucket_under_backfills(machine):
    lake = FakeLake(BOGOTA)
    result = backfill(machine, lake, {"prefix": "travel_times/bogota/"})
    written = result.output["results"]["ResultWriterDetails"]
    assert written["Bucket"] == CURATED and written["Key"].startswith("backfills/")
    manifest = json.loads(lake.curated[written["Key"]])
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    records = json.loads(lake.curated[succeeded["Key"]])
    outcomes = {json.loads(r["Input"])["key"]: json.loads(r["Output"])["outcome"] for r in records}
    assert outcomes["travel_times/bogota/README.txt"]["action"] == "skipped"
    assert outcomes["travel_times/bogota/2019-q1.csv"]["status"] == "SUCCEEDED"
    # the options it ran with stay in its output
    assert result.output["prefix"] == "travel_times/bogota/"
    assert result.output["only_failed"] is False


def test_only_failed_skips_the_keys_published_in_their_listed_version(machine):
    # GIVEN a key published in its current version, one published in an older version, one
    # never published, and one whose record predates source_etag
    lake = FakeLake(
        {
            "travel_times/lima/same.csv": '"e1"',
            "travel_times/lima/changed.csv": '"e2"',
            "travel_times/lima/never.csv": '"e3"',
            "travel_times/lima/old-record.csv": '"e4"',
        }
    )
    lake.commit("travel_times/lima/same.csv", "e1")
    lake.commit("travel_times/lima/changed.csv", "e-older")
    lake.commit("travel_times/lima/old-record.csv", None)
    # WHEN only the failed ones are backfilled
    result = backfill(machine, lake, {"prefix": "travel_times/lima/", "only_failed": True})
    # THEN every key but the one published in this version goes through the workflow again
    assert result.status == "SUCCEEDED", result.cause
    assert lake.ingested_keys() == [
        "travel_times/lima/changed.csv",
        "travel_times/lima/never.csv",
        "travel_times/lima/old-record.csv",
    ]
    # AND without only_failed every key does
    lake.started.clear()
    backfill(machine, lake, {"prefix": "travel_times/lima/"})
    assert len(lake.ingested_keys()) == 4


def test_max_concurrency_bounds_the_ingest_executions_running_at_once(machine):
    keys = {f"travel_times/lima/{i}.csv": f'"{i}"' for i in range(8)}
    lake = FakeLake(keys)
    assert backfill(machine, lake, {"prefix": "travel_times/", "max_concurrency": 2}).status == (
        "SUCCEEDED"
    )
    assert len(lake.started) == 8
    assert lake.peak == 2
    # the default comes from the deployment (here 3: DefaultMaxConcurrency)
    lake = FakeLake(keys)
    result = backfill(machine, lake, {"prefix": "travel_times/"})
    assert result.output["max_concurrency"] == 3
    assert lake.peak == 3


def test_failed_files_are_tolerated_up_to_the_threshold(machine):
    # GIVEN three exports of which one fails its ingest execution
    keys = {f"travel_times/lima/{i}.csv": f'"{i}"' for i in range(3)}
    lake = FakeLake(keys, failing={"travel_times/lima/1.csv"})
    # WHEN a third may fail, the backfill succeeds and lists the failed file in its results
    result = backfill(
        machine, lake, {"prefix": "travel_times/lima/", "tolerated_failure_percentage": 50}
    )
    assert result.status == "SUCCEEDED", result.cause
    manifest = json.loads(lake.curated[result.output["results"]["ResultWriterDetails"]["Key"]])
    [failed] = manifest["ResultFiles"]["FAILED"]
    [record] = json.loads(lake.curated[failed["Key"]])
    assert json.loads(record["Input"])["key"] == "travel_times/lima/1.csv"
    assert record["Error"] == "States.TaskFailed"
    # AND with the default threshold (10 %) it fails as AWS fails a Map Run
    lake = FakeLake(keys, failing={"travel_times/lima/1.csv"})
    result = backfill(machine, lake, {"prefix": "travel_times/lima/"})
    assert (result.status, result.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


@pytest.mark.parametrize(
    "input",
    [
        {},
        {"prefix": "uploads/bogota/"},
        {"prefix": "travel_times/", "only_failed": "yes"},
        {"prefix": "travel_times/", "max_concurrency": 0},
        {"prefix": "travel_times/", "tolerated_failure_percentage": 101},
    ],
)
def test_a_wrong_input_fails_at_once_saying_what_the_input_must_be(machine, input):
    lake = FakeLake(BOGOTA)
    result = backfill(machine, lake, input)
    assert (result.status, result.error) == ("FAILED", "InvalidBackfillInput")
    assert '"prefix": "travel_times/<city>/"' in result.cause
    assert lake.started == []
