"""An execution left RUNNING by a killed `lake` process is closed when the engine next opens:
ABORTED with Lake.Interrupted, its history ending in ExecutionAborted (so it can be redriven,
and `lake watch` starts its file again)."""

from __future__ import annotations

from lake.home import LakeHome
from lake.runtime.engine_lock import try_lock
from lake.runtime.executions import INTERRUPTED
from lake.runtime.history_db import ExecutionRecord, ExecutionStore
from lake.runtime.service import owning


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


def test_closing_finishes_the_running_execution_and_closes_the_queued_ones(tmp_path):
    # GIVEN one execution at a time, three started, the first one waiting in a Wait state
    import threading

    from lake.asl.definition import parse_definition
    from lake.runtime.executions import Executions

    home = LakeHome(tmp_path).ensure()
    store = ExecutionStore(home.db_path)
    definition = parse_definition(
        '{"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 1, "End": true}}}'
    )
    ended: list[str] = []
    executions = Executions(
        home, store, definition, {}, on_ended=lambda r: ended.append(r.status), time_scale=0.2
    )
    started = [executions.start({}, name=f"run-{i}").arn for i in range(3)]
    entered = threading.Event()
    while not entered.is_set():  # the first one is running (inside its Wait state)
        entered.wait(0.01)
        if any(e["type"] == "WaitStateEntered" for e in store.events(started[0])):
            entered.set()
    # WHEN the runtime closes normally
    executions.close(wait=True)
    # THEN the running one finished, the two that never began are closed as interrupted
    statuses = [
        (store.find_execution(arn).status, store.find_execution(arn).error) for arn in started
    ]
    assert statuses == [("SUCCEEDED", None), ("ABORTED", INTERRUPTED), ("ABORTED", INTERRUPTED)]
    assert store.list_executions(status="RUNNING") == []
    assert ended == ["SUCCEEDED"]  # no alert for the interrupted ones
