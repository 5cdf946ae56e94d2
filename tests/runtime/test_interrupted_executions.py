"""An execution left RUNNING by a killed `lake` process is closed when the engine next opens:
ABORTED with Lake.Interrupted, its history ending in ExecutionAborted (so it can be redriven,
and `lake watch` starts its file again)."""

from __future__ import annotations

from lake.db import ExecutionRecord, ExecutionStore
from lake.engine import INTERRUPTED, Engine
from lake.home import LakeHome
from lake.service import owning, try_lock


def test_a_killed_owners_running_execution_is_closed_as_interrupted(tmp_path):
    # GIVEN the database as a killed process leaves it: an execution RUNNING at Transform
    home = LakeHome(tmp_path).ensure()
    store = ExecutionStore(home.db_path)
    arn = home.execution_arn("bogota-x-1")
    store.insert_execution(
        ExecutionRecord(
            arn=arn,
            name="bogota-x-1",
            state_machine_arn=home.state_machine_arn,
            status="RUNNING",
            input="{}",
            start_date=1.0,
        )
    )
    for i, (kind, details) in enumerate(
        [
            ("ExecutionStarted", {"executionStartedEventDetails": {"input": "{}"}}),
            (
                "TaskStateEntered",
                {"stateEnteredEventDetails": {"name": "Transform", "input": "{}"}},
            ),
        ],
        start=1,
    ):
        store.add_event(
            arn,
            {
                "id": i,
                "previousEventId": i - 1,
                "type": kind,
                "timestamp": "2024-01-01T00:00:00+00:00",
                **details,
            },
        )
    # WHEN the next process takes the engine
    with owning(home, try_lock(home)):
        record = ExecutionStore(home.db_path).find_execution("bogota-x-1")
        events = ExecutionStore(home.db_path).events(arn)
    # THEN the execution is closed as interrupted, with an ExecutionAborted event
    assert (record.status, record.error) == ("ABORTED", INTERRUPTED)
    assert "lake redrive bogota-x-1" in record.cause
    assert [e["type"] for e in events][-1] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"]["error"] == INTERRUPTED


def test_an_engine_closed_normally_leaves_nothing_running(tmp_path):
    home = LakeHome(tmp_path)
    with Engine(home) as engine:
        assert engine.store.list_executions(status="RUNNING") == []
