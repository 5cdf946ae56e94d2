"""The execution database: history that lasts, readable while another process writes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

from lake.runtime.history_db import ExecutionRecord, ExecutionStore


def _record(name: str, status: str = "RUNNING", start: float = 1.0) -> ExecutionRecord:
    return ExecutionRecord(
        arn=f"arn:aws:states:us-east-1:0:execution:sm:{name}",
        name=name,
        state_machine_arn="arn:aws:states:us-east-1:0:stateMachine:sm",
        status=status,
        input="{}",
        start_date=start,
        source_bucket="raw",
        source_key=f"travel_times/bogota/{name}.csv",
    )


def test_executions_are_found_by_name_or_arn_and_listed_newest_first(tmp_path):
    store = ExecutionStore(tmp_path / "lake.runtime.history_db")
    store.insert_execution(_record("old", "SUCCEEDED", start=1.0))
    store.insert_execution(_record("new", "FAILED", start=2.0))
    assert store.find_execution("new").status == "FAILED"
    assert store.find_execution(_record("old").arn).name == "old"
    assert [r.name for r in store.list_executions()] == ["new", "old"]
    assert [r.name for r in store.list_executions(status="SUCCEEDED")] == ["old"]


def test_another_process_reads_history_while_this_one_holds_a_write_transaction(tmp_path):
    # GIVEN an execution with two events, and a writer in the middle of a transaction (WAL)
    path = tmp_path / "lake.runtime.history_db"
    store = ExecutionStore(path)
    record = _record("running")
    store.insert_execution(record)
    for i, kind in enumerate(["ExecutionStarted", "TaskStateEntered"], start=1):
        store.add_event(
            record.arn, {"id": i, "type": kind, "timestamp": "2024-01-01T00:00:00+00:00"}
        )
    writer = sqlite3.connect(path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE executions SET status = 'RUNNING'")
    # WHEN another process reads it
    reader = textwrap.dedent(
        f"""
        from lake.runtime.history_db import ExecutionStore
        store = ExecutionStore(__import__("pathlib").Path({str(path)!r}))
        print(",".join(e["type"] for e in store.events({record.arn!r})))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", reader], capture_output=True, text=True, timeout=60
    )
    writer.rollback()
    # THEN it sees the events without waiting for the writer
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ExecutionStarted,TaskStateEntered"


def test_the_same_event_stored_twice_is_kept_once(tmp_path):
    store = ExecutionStore(tmp_path / "lake.runtime.history_db")
    record = _record("x")
    store.insert_execution(record)
    event = {"id": 1, "type": "ExecutionStarted", "timestamp": "2024-01-01T00:00:00+00:00"}
    store.add_event(record.arn, event)
    store.add_event(record.arn, event)
    assert len(store.events(record.arn)) == 1


def test_the_ledger_remembers_which_execution_took_each_object_version(tmp_path):
    store = ExecutionStore(tmp_path / "lake.runtime.history_db")
    store.record_object("raw", "travel_times/a/x.csv", 10, 111, '"e1"', "arn:1")
    assert store.object_execution("raw", "travel_times/a/x.csv", 10, 111) == "arn:1"
    # a new version of the same key (other size or mtime) is not yet seen
    assert store.object_execution("raw", "travel_times/a/x.csv", 10, 222) is None


def test_a_database_made_before_parent_and_map_run_links_gains_them_in_place(tmp_path):
    # GIVEN a history database as an earlier release made it, with one execution
    path = tmp_path / "lake.runtime.history_db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE executions (arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "state_machine_arn TEXT NOT NULL, status TEXT NOT NULL, input TEXT, output TEXT, "
        "error TEXT, cause TEXT, start_date REAL NOT NULL, stop_date REAL, "
        "redrive_count INTEGER NOT NULL DEFAULT 0, redrive_date REAL, source_bucket TEXT, "
        "source_key TEXT, rerun_of TEXT)"
    )
    old.execute(
        "INSERT INTO executions (arn, name, state_machine_arn, status, start_date) "
        "VALUES ('arn:x', 'x', 'arn:sm', 'SUCCEEDED', 1.0)"
    )
    old.commit()
    old.close()
    # WHEN this release opens it
    store = ExecutionStore(path)
    # THEN the execution is still there, unlinked, and new ones can be linked to a parent
    assert store.find_execution("x").parent_arn is None
    child = _record("child")
    child.parent_arn = "arn:x"
    store.insert_execution(child)
    assert [r.name for r in store.list_executions(parent_arn="arn:x")] == ["child"]
    assert store.map_runs() == []


def test_map_runs_are_kept_with_their_counts_and_their_children_listed_apart(tmp_path):
    from lake.runtime.history_db import MapRunRecord

    store = ExecutionStore(tmp_path / "lake.runtime.history_db")
    counts = {"succeeded": 1, "failed": 1, "total": 2}
    run = MapRunRecord(
        map_run_arn="arn:mapRun:sm/Files:1",
        execution_arn="arn:parent",
        state_name="Files",
        state_machine_arn="arn:sm/Files",
        status="FAILED",
        start_date=1.0,
        max_concurrency=2,
        tolerated_failure_percentage=0.0,
        tolerated_failure_count=0,
        item_counts=counts,
        execution_counts=counts,
    )
    store.save_map_run(run)
    assert store.find_map_run(run.map_run_arn) == run
    assert store.map_runs(execution_arn="arn:parent") == [run]
    assert run.as_json()["itemCounts"] == counts
    child = _record("item-0")
    child.map_run_arn, child.map_item_index = run.map_run_arn, 0
    store.insert_execution(child)
    # a Map Run's children are listed by their Map Run, not among the executions
    assert store.list_executions() == []
    assert [r.name for r in store.list_executions(map_run_arn=run.map_run_arn)] == ["item-0"]
