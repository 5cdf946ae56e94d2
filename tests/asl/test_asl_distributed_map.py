"""The Map state in Distributed mode: Map Run, child executions, ItemReader, ItemBatcher,
ResultWriter, tolerated failures and the observer a runtime records them with."""

from __future__ import annotations

import json
import threading

from asl_support import (
    LAMBDA,
    STATE_MACHINE_ARN,
    Script,
    definition,
    details,
    run,
    task,
    types,
)

from lake.asl import TaskFailure
from lake.asl.observer import MapRunObserver

LIST = "arn:aws:states:::s3:listObjectsV2"
GET = "arn:aws:states:::s3:getObject"
PUT = "arn:aws:states:::s3:putObject"


class FakeS3:
    """An in-memory S3 serving the three ItemReader / ResultWriter resources."""

    def __init__(self, objects: dict[str, str], page_size: int = 2) -> None:
        self.objects = dict(objects)  # "bucket/key" -> text
        self.page_size = page_size
        self.calls: list[tuple[str, dict]] = []

    def integrations(self) -> dict:
        return {LIST: self.list_objects, GET: self.get_object, PUT: self.put_object}

    def list_objects(self, request):
        self.calls.append(("list", request.parameters))
        bucket, prefix = request.parameters["Bucket"], request.parameters.get("Prefix", "")
        keys = sorted(k.split("/", 1)[1] for k in self.objects if k.startswith(f"{bucket}/"))
        keys = [k for k in keys if k.startswith(prefix)]
        start = int(request.parameters.get("ContinuationToken", 0))
        page = keys[start : start + self.page_size]
        more = start + self.page_size < len(keys)
        response = {
            "Contents": [{"Key": k, "Size": len(self.objects[f"{bucket}/{k}"])} for k in page],
            "IsTruncated": more,
        }
        if more:
            response["NextContinuationToken"] = str(start + self.page_size)
        return response

    def get_object(self, request):
        key = f"{request.parameters['Bucket']}/{request.parameters['Key']}"
        if key not in self.objects:
            raise TaskFailure("S3.NoSuchKey", "The specified key does not exist.")
        return {"Body": self.objects[key]}

    def put_object(self, request):
        key = f"{request.parameters['Bucket']}/{request.parameters['Key']}"
        self.objects[key] = request.parameters["Body"]
        return {"ETag": '"x"'}


class Recorder(MapRunObserver):
    def __init__(self) -> None:
        self.runs, self.children, self.lock = [], [], threading.Lock()

    def map_run_started(self, run):
        self.runs.append(run)

    def child_ended(self, child):
        with self.lock:
            self.children.append(child)


def _distributed(processor_states: dict, **fields) -> dict:
    state = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": next(iter(processor_states)),
            "States": processor_states,
        },
        "End": True,
        **fields,
    }
    return state


ECHO = {"Echo": {"Type": "Pass", "End": True}}


def test_distributed_map_history_and_map_run_as_aws_records_them():
    """Step Functions guide, "Using Map state in Distributed mode" and "Viewing a Distributed
    Map Run execution": the parent records MapStateEntered, MapStateStarted, MapRunStarted
    (mapRunArn ``...:mapRun:<machine>/<label>:<id>``), MapRunSucceeded, MapStateSucceeded,
    MapStateExited; each item runs as a child execution with its own history."""
    recorder = Recorder()
    machine = definition({"Fan": _distributed(ECHO, ItemsPath="$.items", Label="fanout")})
    result = run(machine, {}, {"items": [1, 2, 3]}, observer=recorder)
    assert types(result) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapRunStarted",
        "MapRunSucceeded",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]
    arn = details(result, "MapRunStarted")[0]["mapRunArn"]
    assert arn.startswith("arn:aws:states:eu-west-1:123456789012:mapRun:tiny/fanout:")
    assert result.output == [1, 2, 3]
    (map_run,) = recorder.runs
    assert map_run.map_run_arn == arn and map_run.status == "SUCCEEDED"
    assert map_run.state_machine_arn == f"{STATE_MACHINE_ARN}/fanout"
    assert map_run.item_counts | {} == {
        "pending": 0,
        "running": 0,
        "succeeded": 3,
        "failed": 0,
        "timedOut": 0,
        "aborted": 0,
        "total": 3,
        "resultsWritten": 0,
    }
    children = sorted(recorder.children, key=lambda c: c.index)
    assert [c.status for c in children] == ["SUCCEEDED"] * 3
    assert all(
        c.execution_arn.startswith("arn:aws:states:eu-west-1:123456789012:execution:tiny/fanout:")
        for c in children
    )
    assert [e["type"] for e in children[0].events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    assert map_run.describe()["status"] == "SUCCEEDED"


def test_the_map_run_arn_uses_the_state_name_without_a_label():
    """Step Functions guide, "Viewing a Distributed Map Run execution": the Map Run is named
    after the Label, here absent."""
    result = run(definition({"Fan": _distributed(ECHO)}), {}, [1])
    assert ":mapRun:tiny/Fan:" in details(result, "MapRunStarted")[0]["mapRunArn"]


def test_item_reader_lists_objects_page_by_page():
    """Step Functions guide, "ItemReader (Map)": with ``arn:aws:states:::s3:listObjectsV2``
    each object under the prefix is an item."""
    s3 = FakeS3({"raw/a/1.csv": "x", "raw/a/2.csv": "yy", "raw/a/3.csv": "z", "raw/b/4": "w"})
    machine = definition(
        {
            "Fan": _distributed(
                ECHO,
                ItemReader={"Resource": LIST, "Parameters": {"Bucket": "raw", "Prefix.$": "$.p"}},
                ItemSelector={"key.$": "$$.Map.Item.Value.Key"},
            )
        }
    )
    result = run(machine, s3.integrations(), {"p": "a/"})
    assert result.output == [{"key": "a/1.csv"}, {"key": "a/2.csv"}, {"key": "a/3.csv"}]
    assert [c[1].get("ContinuationToken") for c in s3.calls] == [None, "2"]


def test_item_reader_reads_csv_json_and_jsonl_objects_with_max_items():
    """Step Functions guide, "ItemReader (Map)": CSV rows become objects keyed by the header
    (every value a string), JSON files hold an array, JSONL one item a line; MaxItems keeps the
    first items."""
    s3 = FakeS3(
        {
            "in/rows.csv": "city,n\nlondon,1\nparis,2\nrome,3\n",
            "in/items.json": "[1, 2, 3]",
            "in/items.jsonl": '{"a": 1}\n{"a": 2}\n',
        }
    )

    def reader(key, **config):
        return {"Resource": GET, "Parameters": {"Bucket": "in", "Key": key}, "ReaderConfig": config}

    csv_map = definition(
        {"F": _distributed(ECHO, ItemReader=reader("rows.csv", InputType="CSV", MaxItems=2))}
    )
    assert run(csv_map, s3.integrations()).output == [
        {"city": "london", "n": "1"},
        {"city": "paris", "n": "2"},
    ]
    json_map = definition(
        {"F": _distributed(ECHO, ItemReader=reader("items.json", InputType="JSON"))}
    )
    assert run(json_map, s3.integrations()).output == [1, 2, 3]
    lines = definition(
        {"F": _distributed(ECHO, ItemReader=reader("items.jsonl", InputType="JSONL"))}
    )
    assert run(lines, s3.integrations()).output == [{"a": 1}, {"a": 2}]
    missing = definition(
        {"F": _distributed(ECHO, ItemReader=reader("nope.json", InputType="JSON"))}
    )
    failed = run(missing, s3.integrations())
    assert (failed.status, failed.error) == ("FAILED", "States.ItemReaderFailed")
    assert types(failed)[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    assert details(failed, "MapRunFailed")[0]["error"] == "States.ItemReaderFailed"


def test_item_batcher_groups_items_with_batch_input():
    """Step Functions guide, "ItemBatcher (Map)": each child gets ``{"BatchInput": ...,
    "Items": [...]}`` with at most MaxItemsPerBatch items."""
    machine = definition(
        {
            "F": _distributed(
                ECHO,
                ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}},
                ItemsPath="$.xs",
            )
        }
    )
    result = run(machine, {}, {"xs": [1, 2, 3], "run": "r1"})
    assert result.output == [
        {"BatchInput": {"run": "r1"}, "Items": [1, 2]},
        {"BatchInput": {"run": "r1"}, "Items": [3]},
    ]


def test_failures_beyond_the_tolerated_threshold_fail_the_map_run():
    """Step Functions guide, "Setting failure thresholds for Distributed Map states": with no
    threshold any failed child fails the run with States.ExceedToleratedFailureThreshold; a
    ToleratedFailureCount lets that many fail."""
    work = Script(
        lambda r: (_ for _ in ()).throw(TaskFailure("Bad")) if r.parameters == 2 else r.parameters
    )
    strict = definition({"F": _distributed({"W": task()}, MaxConcurrency=1)})
    failed = run(strict, {LAMBDA: work}, [1, 2, 3])
    assert (failed.status, failed.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    assert details(failed, "MapRunFailed") == [
        {
            "error": "States.ExceedToleratedFailureThreshold",
            "cause": "The specified tolerated failure threshold was exceeded",
        }
    ]
    assert types(failed)[-3:] == ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    tolerant = definition({"F": _distributed({"W": task()}, ToleratedFailureCount=1)})
    ok = run(tolerant, {LAMBDA: work}, [1, 2, 3])
    assert ok.status == "SUCCEEDED"
    assert ok.output[0] == 1 and ok.output[2] == 3
    assert ok.output[1]["Status"] == "FAILED" and ok.output[1]["Error"] == "Bad"


def test_result_writer_writes_manifest_and_result_files():
    """Step Functions guide, "ResultWriter (Map)": results go to ``<Prefix>/<map run
    id>/SUCCEEDED_0.json`` (and FAILED_0.json ...) with a manifest.json naming them; the state's
    output points at the manifest."""
    s3 = FakeS3({})
    recorder = Recorder()
    machine = definition(
        {
            "F": _distributed(
                ECHO,
                ResultWriter={"Resource": PUT, "Parameters": {"Bucket": "out", "Prefix": "runs"}},
            )
        }
    )
    result = run(machine, s3.integrations(), ["a", "b"], observer=recorder)
    arn = details(result, "MapRunStarted")[0]["mapRunArn"]
    run_id = arn.rsplit(":", 1)[1]
    assert result.output == {
        "MapRunArn": arn,
        "ResultWriterDetails": {"Bucket": "out", "Key": f"runs/{run_id}/manifest.json"},
    }
    manifest = json.loads(s3.objects[f"out/runs/{run_id}/manifest.json"])
    assert manifest["DestinationBucket"] == "out" and manifest["MapRunArn"] == arn
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    assert succeeded["Key"] == f"runs/{run_id}/SUCCEEDED_0.json"
    records = json.loads(s3.objects[f"out/{succeeded['Key']}"])
    assert [json.loads(r["Output"]) for r in records] == ["a", "b"]
    assert {r["Status"] for r in records} == {"SUCCEEDED"}
    assert recorder.runs[0].item_counts["resultsWritten"] == 2


def test_item_reader_and_result_writer_resources_are_listed():
    """The runtime must serve the S3 resources a Distributed Map uses."""
    machine = definition(
        {
            "F": _distributed(
                ECHO,
                ItemReader={"Resource": LIST, "Parameters": {"Bucket": "b"}},
                ResultWriter={"Resource": PUT, "Parameters": {"Bucket": "b", "Prefix": "p"}},
            )
        }
    )
    assert machine.resources() == {LIST, PUT}


def test_max_concurrency_bounds_running_children():
    """Step Functions guide, "Using Map state in Distributed mode" (MaxConcurrency)."""
    running, peak, lock = [0], [0], threading.Lock()
    gate = threading.Event()

    def work(request):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        gate.wait(0.01)
        with lock:
            running[0] -= 1
        return request.parameters

    machine = definition({"F": _distributed({"W": task()}, MaxConcurrency=3)})
    assert run(machine, {LAMBDA: Script(work)}, list(range(8))).output == list(range(8))
    assert peak[0] <= 3
