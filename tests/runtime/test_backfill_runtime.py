"""The backfill in the local runtime, without Spark: the real backfill ASL file drives an ingest
workflow cut down to its real Validate state and a short Wait, so that the parent, its Map Run,
the Map Run's child executions and the ingest executions they start are all recorded, linked and
bounded as on AWS."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

import settings
from lake.asl import TaskDoesNotExist
from lake.home import LakeHome
from lake.runtime import ExecutionRecord, Lake
from lake.runtime.engine import Engine
from lake.ui.generate import generate

CITY = "travel_times/lima/"


def _ingest_definition(tmp_path, wait_seconds: int = 0):
    """The ingest workflow's Validate state (the real handler), then a Wait standing in for
    the Glue job."""
    ingest = json.loads(settings.STATE_MACHINE_FILE.read_text())
    validate = dict(ingest["States"]["Validate"], Next="Transform")
    states = {
        "Validate": validate,
        "Transform": {"Type": "Wait", "Seconds": wait_seconds, "End": True},
    }
    path = tmp_path / "ingest.asl.json"
    path.write_text(json.dumps({"StartAt": "Validate", "States": states}))
    return path


def _put(home: LakeHome, key: str, data: bytes | None = None, seed: int = 1) -> None:
    path = home.object_path(home.settings.raw_bucket, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        generate(path, rows=20, seed=seed, zones=5, date_ranges=1)
    else:
        path.write_bytes(data)


def _backfill(engine: Engine, **options) -> str:
    machine = engine.home.settings.backfill_state_machine_name
    name = engine.start(machine, {"prefix": CITY, **options})
    engine.wait_idle()
    return name


@pytest.fixture
def home(tmp_path):
    home = LakeHome(tmp_path / "home").ensure()
    _put(home, f"{CITY}a.csv", seed=1)
    _put(home, f"{CITY}b.csv", seed=2)
    _put(home, f"{CITY}bad.csv", b"\xff\xfe not text at all\n")
    _put(home, f"{CITY}notes.txt", b"not an export")
    return home


def test_a_backfill_runs_one_ingest_execution_per_export_each_linked_to_it(home, tmp_path):
    # GIVEN two good exports, one the validator rejects and a file that is no export
    with Engine(home, definition_file=_ingest_definition(tmp_path)) as engine:
        # WHEN the prefix is backfilled (one failure in four tolerated)
        name = _backfill(engine, tolerated_failure_percentage=50)
    lake = Lake(home)
    parent = lake.execution(name)
    # THEN the parent succeeded, and its Map Run counts the items as DescribeMapRun does
    assert parent.status == "SUCCEEDED", parent.cause
    [run] = lake.map_runs(name)
    assert run.status == "SUCCEEDED" and run.state_name == "ReprocessFiles"
    assert run.item_counts | {} == {
        "pending": 0,
        "running": 0,
        "succeeded": 3,
        "failed": 1,
        "timedOut": 0,
        "aborted": 0,
        "total": 4,
        "resultsWritten": 4,
    }
    # AND each item ran as a child execution of the Map Run, recorded with its history
    items = lake.map_run_children(run.map_run_arn)
    assert len(items) == 4 and {i.parent_arn for i in items} == {parent.arn}
    assert all(lake.history(i.arn)[0]["type"] == "ExecutionStarted" for i in items)
    # AND each export started a normal ingest execution, named and recorded after its file
    ingested = lake.started_executions(name)
    assert sorted(e.source_key for e in ingested) == [
        f"{CITY}a.csv",
        f"{CITY}b.csv",
        f"{CITY}bad.csv",
    ]
    assert {e.state_machine_arn for e in ingested} == {home.state_machine_arn}
    assert {e.status for e in ingested if not e.source_key.endswith("bad.csv")} == {"SUCCEEDED"}
    [bad] = [e for e in ingested if e.source_key.endswith("bad.csv")]
    assert (bad.status, bad.error) == ("FAILED", "NotUtf8")
    assert lake.started_by(bad).arn == parent.arn
    # AND the ingest executions are listed like any, the Map Run's own children are not
    listed = {e.arn for e in lake.executions()}
    assert {e.arn for e in ingested} | {parent.arn} == listed
    # AND the failed one alerted, as any failed ingest execution does
    assert [a["subject"] for a in lake.alerts()] == [
        f'{home.settings.state_machine_name} FAILED at Validate: "bad.csv"'
    ]
    # AND the results were written to the curated bucket under backfills/
    output = json.loads(parent.output)
    manifest = home.object_path(
        home.settings.curated_bucket, output["results"]["ResultWriterDetails"]["Key"]
    )
    assert manifest.is_file() and manifest.parent.parent.name == "backfills"


def _peak_running(records) -> int:
    """The most executions whose [start, stop] overlapped at any moment."""
    edges = sorted(
        [(r.start_date, 1) for r in records] + [(r.stop_date, -1) for r in records],
        key=lambda edge: (edge[0], edge[1]),
    )
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_max_concurrency_bounds_the_ingest_executions_a_backfill_runs_at_once(home, tmp_path):
    for i in range(5):
        _put(home, f"{CITY}more-{i}.csv", seed=10 + i)
    # GIVEN an ingest pool of 4, and ingest executions that each take a moment
    definition = _ingest_definition(tmp_path, wait_seconds=1)
    with Engine(home, definition_file=definition, parallel=4, time_scale=0.2) as engine:
        # WHEN a backfill may run 2 at once
        name = _backfill(engine, max_concurrency=2, tolerated_failure_percentage=100)
    # THEN never more than 2 of its ingest executions ran at once, and 2 did
    ingested = Lake(home).started_executions(name)
    assert len(ingested) == 8
    assert _peak_running(ingested) == 2


def test_a_backfill_wider_than_the_ingest_pool_does_not_deadlock(home, tmp_path):
    # GIVEN an ingest pool of 1 and a backfill allowed 5 at once (its parent has its own pool)
    with Engine(home, definition_file=_ingest_definition(tmp_path), parallel=1) as engine:
        done = threading.Event()
        names = []

        def run() -> None:
            names.append(_backfill(engine, max_concurrency=5, tolerated_failure_percentage=100))
            done.set()

        threading.Thread(target=run, daemon=True).start()
        # THEN it finishes: the children queue for the ingest pool, the parent waits apart
        assert done.wait(60), "the backfill did not finish"
    parent = Lake(home).execution(names[0])
    assert parent.status == "SUCCEEDED"
    assert _peak_running(Lake(home).started_executions(parent.name)) <= 5


def test_only_failed_reprocesses_exactly_the_keys_not_published_in_their_version(home, tmp_path):
    from lake.aws.s3 import file_etag

    # GIVEN commit records (as the job writes them) saying a.csv is published in its current
    # version and b.csv in an older one
    curated, raw = home.settings.curated_bucket, home.settings.raw_bucket
    for name, etag in (
        ("a.csv", file_etag(home.object_path(raw, f"{CITY}a.csv"))),
        ("b.csv", '"old"'),
    ):
        record = home.object_path(curated, f"_commits/{CITY}{name}.json")
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(
            json.dumps(
                {
                    "source_key": f"{CITY}{name}",
                    "source_etag": etag.strip('"'),
                    "version_id": "v",
                    "sequencer": "1",
                    "run_id": "r",
                    "committed_at": "2026-01-01T00:00:00Z",
                    "files": [],
                }
            )
        )
    with Engine(home, definition_file=_ingest_definition(tmp_path)) as engine:
        name = _backfill(engine, only_failed=True, tolerated_failure_percentage=100)
    # THEN only b.csv (older version) and bad.csv (never published) went through again
    ingested = Lake(home).started_executions(name)
    assert sorted(e.source_key for e in ingested) == [f"{CITY}b.csv", f"{CITY}bad.csv"]


def _waiting_for_a_token(tmp_path, backfill_arn: str):
    """An 'ingest' workflow that starts a child with its task token and waits for it (Step
    Functions guide, "Wait for a Callback with Task Token")."""
    state = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
        "Parameters": {
            "StateMachineArn": backfill_arn,
            "Input": {"prefix": "travel_times/nowhere/", "token.$": "$$.Task.Token"},
        },
        "HeartbeatSeconds": 600,
        "End": True,
    }
    path = tmp_path / "callback.asl.json"
    path.write_text(json.dumps({"StartAt": "Approval", "States": {"Approval": state}}))
    return path


@pytest.mark.parametrize("answer", ["success", "failure"])
def test_a_task_waiting_for_its_token_is_answered_through_the_engine(home, tmp_path, answer):
    backfill_arn = home.state_machine_arn_of(home.settings.backfill_state_machine_name)
    with Engine(home, definition_file=_waiting_for_a_token(tmp_path, backfill_arn)) as engine:
        try:
            # GIVEN an execution whose task started a child with its token, and waits
            name = engine.start(home.settings.state_machine_name, {})
            lake = Lake(home)
            deadline = time.monotonic() + 30
            while not lake.started_executions(name) and time.monotonic() < deadline:
                time.sleep(0.01)  # the task issues its token, then starts the child
            [child] = lake.started_executions(name)
            token = json.loads(child.input)["token"]
            assert [w["taskToken"] for w in engine.task_tokens.waiting()] == [token]
            backfills = engine.workflows[home.settings.backfill_state_machine_name]
            assert backfills.wait_for(child.arn).status == "SUCCEEDED"  # it listed nothing
            # WHEN the token is answered (as `lake send-task-...` does, through the engine)
            engine.send_task_heartbeat(token)
            if answer == "success":
                engine.send_task_success(token, '{"approved": true}')
            else:
                engine.send_task_failure(token, "Rejected", "no, thank you")
            engine.wait_idle()
        except BaseException:
            engine.interrupt()  # the task would wait 600 s for its token: let the engine close
            raise
    # THEN the waiting task ends with that answer
    record = lake.execution(name)
    if answer == "success":
        assert (record.status, json.loads(record.output)) == ("SUCCEEDED", {"approved": True})
    else:
        assert (record.status, record.error, record.cause) == (
            "FAILED",
            "Rejected",
            "no, thank you",
        )
    assert lake.started_by(child).name == name


def test_the_engine_serves_task_tokens_to_every_state_machine_through_one_registry(home):
    with Engine(home) as engine:
        assert all(e.task_tokens is engine.task_tokens for e in engine.workflows.values())
        token = engine.task_tokens.issue("arn:execution", "Approve")
        engine.send_task_success(token, '{"approved": true}')
        outcome, _ = engine.task_tokens.wait(token, 0)
        assert outcome.succeeded and json.loads(outcome.output) == {"approved": True}
        engine.task_tokens.close(token, timed_out=False)
        with pytest.raises(TaskDoesNotExist):
            engine.send_task_heartbeat(token)


def test_redriving_a_failed_backfill_redrives_only_its_map_runs_failed_children(home, tmp_path):
    """Step Functions guide, "Redriving Map Runs", in the runtime: the Map Run's children come
    back from the history database; only bad.csv's child runs again (starting a new ingest
    execution for it), the other files are not re-processed."""
    with Engine(home, definition_file=_ingest_definition(tmp_path), parallel=2) as engine:
        # GIVEN a backfill that tolerates no failure, failed by bad.csv
        name = _backfill(engine, tolerated_failure_percentage=0, max_concurrency=1)
        lake = Lake(home)
        assert lake.execution(name).status == "FAILED"
        [run] = lake.map_runs(name)
        before = {e.source_key: e.name for e in lake.started_executions(name)}
        # WHEN bad.csv is fixed and the backfill redriven
        _put(home, f"{CITY}bad.csv", seed=9)
        engine.redrive(name)
        engine.wait_idle()
    # THEN it succeeds, its Map Run redriven (same ARN), every file now in
    parent = lake.execution(name)
    assert (parent.status, parent.redrive_count) == ("SUCCEEDED", 1)
    [again] = lake.map_runs(name)
    assert again.map_run_arn == run.map_run_arn and again.redrive_count == 1
    assert (again.item_counts["succeeded"], again.item_counts["total"]) == (4, 4)
    events = [e["type"] for e in lake.history(name)]
    assert events.count("MapRunStarted") == 1 and events.count("MapRunRedriven") == 1
    # AND only the files that had not succeeded went through the ingest workflow again
    after = lake.started_executions(name)
    again_per_key = Counter(e.source_key for e in after)
    for key, execution in before.items():
        ingest = lake.execution(execution)
        expected = 1 if ingest.status == "SUCCEEDED" else 2
        assert again_per_key[key] == expected, (key, ingest.status)
    # AND the redriven child execution kept its ARN and continued its history
    children = lake.map_run_children(run.map_run_arn)
    redriven = [c for c in children if c.redrive_count]
    assert redriven and all(c.status == "SUCCEEDED" for c in children)
    for child in redriven:
        assert [e["type"] for e in lake.history(child.arn)].count("ExecutionRedriven") == 1


def test_a_map_runs_child_is_described_with_its_item_processor_and_redriven_through_its_parent(
    home, tmp_path
):
    from lake.asl import NotRedrivable

    with Engine(home, definition_file=_ingest_definition(tmp_path)) as engine:
        name = _backfill(engine, tolerated_failure_percentage=100)
        lake = Lake(home)
        [run] = lake.map_runs(name)
        child = lake.map_run_children(run.map_run_arn)[0]
        # its definition is the Map state's item processor
        assert lake.definition_of(child).start_at == "IsExport"
        # and it is redriven through its parent, as on AWS
        with pytest.raises(NotRedrivable) as refused:
            engine.redrive(child.name)
        assert f"lake redrive {name}" in str(refused.value)


def test_a_backfill_a_dead_process_left_running_is_closed_with_its_map_run(home, tmp_path):
    from lake.runtime.history_db import ExecutionStore, MapRunRecord

    # GIVEN the database of a process killed mid-backfill
    store = ExecutionStore(home.db_path)
    machine = home.state_machine_arn_of(home.settings.backfill_state_machine_name)
    parent = ExecutionRecord(
        arn=home.execution_arn("b", home.settings.backfill_state_machine_name),
        name="b",
        state_machine_arn=machine,
        status="RUNNING",
        input="{}",
        start_date=1.0,
    )
    store.insert_execution(parent)
    counts = dict.fromkeys(("pending", "running", "succeeded", "failed"), 0)
    counts.update(running=1, pending=2, succeeded=1, total=4, aborted=0, timedOut=0)
    store.save_map_run(
        MapRunRecord(
            map_run_arn="arn:mapRun:b/ReprocessFiles:1",
            execution_arn=parent.arn,
            state_name="ReprocessFiles",
            state_machine_arn=f"{machine}/ReprocessFiles",
            status="RUNNING",
            start_date=1.0,
            max_concurrency=1,
            tolerated_failure_percentage=10.0,
            tolerated_failure_count=0,
            item_counts=dict(counts),
            execution_counts=dict(counts),
        )
    )
    store.insert_execution(
        ExecutionRecord(
            arn=f"{machine}/ReprocessFiles:c1".replace(":stateMachine:", ":execution:"),
            name="c1",
            state_machine_arn=f"{machine}/ReprocessFiles",
            status="RUNNING",
            input="{}",
            start_date=1.0,
            parent_arn=parent.arn,
            map_run_arn="arn:mapRun:b/ReprocessFiles:1",
            map_item_index=0,
        )
    )
    store.close()
    # WHEN an engine opens the home
    with Engine(home, definition_file=_ingest_definition(tmp_path)):
        pass
    # THEN the backfill, its Map Run and its running child are closed as interrupted
    lake = Lake(home)
    assert (lake.execution("b").status, lake.execution("b").error) == (
        "ABORTED",
        "Lake.Interrupted",
    )
    [run] = lake.map_runs("b")
    assert run.status == "ABORTED" and run.execution_counts["aborted"] == 3
    [child] = lake.map_run_children(run.map_run_arn)
    assert child.status == "ABORTED"
    assert lake.history(child.arn)[-1]["type"] == "ExecutionAborted"
