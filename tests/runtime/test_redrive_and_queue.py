"""Through the engine's service: a second redrive of an execution that is being redriven is
refused as AWS refuses it (ExecutionNotRedrivable); and Glue job run queuing played locally:
a burst of executions, none failing, never more runs at once than the job's limit."""

from __future__ import annotations

import json
import sys
import threading
import types

import pytest

from lake.asl import TaskRequest, load_definition
from lake.aws import GLUE_START_JOB_RUN_SYNC
from lake.aws.glue import GlueStartJobRun, JobRunQueue, local_max_concurrent_runs
from lake.home import LakeHome
from lake.runtime.engine_client import RemoteEngine
from lake.runtime.engine_lock import try_lock
from lake.runtime.errors import RemoteError
from lake.runtime.executions import Executions
from lake.runtime.history_db import ExecutionStore
from lake.runtime.service import owning

# The Glue script the tests inject: it hands control to a probe module the test installs.
FAKE_SCRIPT = "import glue_probe\nglue_probe.run()\n"


def _transform_only(home: LakeHome, path) -> None:
    """A state machine of one Task: the project's Glue job, run .sync."""
    path.write_text(
        json.dumps(
            {
                "StartAt": "Transform",
                "States": {
                    "Transform": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::glue:startJobRun.sync",
                        "Parameters": {"JobName": home.settings.transform_job_name},
                        "End": True,
                    }
                },
            }
        )
    )


@pytest.fixture
def probe(monkeypatch):
    module = types.ModuleType("glue_probe")
    monkeypatch.setitem(sys.modules, "glue_probe", module)
    return module


class FakeSpark:
    """Enough of a SparkSession for the engine's start-up (the catalog check, the DDL)."""

    def __init__(self, home: LakeHome) -> None:
        url = f"jdbc:derby:;databaseName={home.catalog / 'metastore_db'}"
        conf = types.SimpleNamespace(get=lambda key, default="": url)
        self.sparkContext = types.SimpleNamespace(getConf=lambda: conf)

    def newSession(self):
        return self

    catalog = types.SimpleNamespace(setCurrentDatabase=lambda name: None)

    def sql(self, text):
        return types.SimpleNamespace(columns=[], collect=list)


def test_a_second_redrive_while_one_runs_is_refused_through_the_service(tmp_path, probe):
    home = LakeHome(tmp_path / "home").ensure()
    definition = tmp_path / "transform.asl.json"
    _transform_only(home, definition)
    script = tmp_path / "job.py"
    script.write_text(FAKE_SCRIPT)
    # The job fails on its first run; a redrive's run waits at the gate until released.
    runs = []
    entered, release = threading.Event(), threading.Event()

    def run():
        runs.append(len(runs) + 1)
        if len(runs) == 1:
            raise RuntimeError("the cause, before it was fixed")
        entered.set()
        assert release.wait(30)

    probe.run = run
    lock = try_lock(home)
    with owning(
        home,
        lock,
        definition_file=definition,
        glue_script=script,
        spark_factory=lambda root: FakeSpark(home),
        parallel=4,
    ) as engine:
        # GIVEN an execution that failed at Transform
        name = engine.start(home.settings.state_machine_name, {}, name="x-1")
        engine.wait_idle()
        store = ExecutionStore(home.db_path)
        assert store.find_execution(name).status == "FAILED"
        # and two clients of the engine, in two threads (two `lake redrive` in two shells)
        first, second = RemoteEngine(home), RemoteEngine(home)
        try:
            # WHEN the first redrives it, and its run is under way (held at the gate)
            assert first.redrive(name) == name
            assert entered.wait(30)
            assert store.find_execution(name).status == "RUNNING"
            # THEN the second's redrive is refused as AWS refuses it
            outcome: dict = {}

            def second_redrive():
                try:
                    outcome["name"] = second.redrive(name)
                except RemoteError as e:
                    outcome["error"] = e

            thread = threading.Thread(target=second_redrive)
            thread.start()
            thread.join(30)
            error = outcome.get("error")
            assert isinstance(error, RemoteError), outcome
            assert error.kind == "NotRedrivable"
            assert "RUNNING and cannot be redriven" in str(error)
            # AND the first redrive goes on, once, to the end
            release.set()
            engine.wait_idle()
        finally:
            first.close()
            second.close()
        record = store.find_execution(name)
        assert (record.status, record.redrive_count) == ("SUCCEEDED", 1)
        assert runs == [1, 2]  # the refused redrive ran nothing
        redriven = [e for e in store.events(record.arn) if e["type"] == "ExecutionRedriven"]
        assert len(redriven) == 1


def test_the_local_limit_is_one_and_never_above_the_stacks():
    class S:
        glue_max_concurrent_runs = 10

    assert local_max_concurrent_runs(S()) == 1


@pytest.mark.parametrize("limit", [1, 2])
def test_a_burst_of_executions_queues_for_the_job_none_fails_never_above_the_limit(
    tmp_path, probe, limit
):
    # GIVEN a job that may run `limit` runs at once, and more executions than that, on a
    # pool of six
    home = LakeHome(tmp_path / "home").ensure()
    definition_file = tmp_path / "transform.asl.json"
    _transform_only(home, definition_file)
    script = tmp_path / "job.py"
    script.write_text(FAKE_SCRIPT)
    queue = JobRunQueue(limit)
    glue = GlueStartJobRun(home, script, lambda: None, queue=queue)
    running, seen, lock = [0], [], threading.Lock()
    states_while_running = []

    def run():
        with lock:
            running[0] += 1
            seen.append(running[0])
            # what GetJobRun says of every run meanwhile
            states_while_running.append(sorted(r["JobRunState"] for r in glue._job_runs.values()))
        threading.Event().wait(0.03)
        with lock:
            running[0] -= 1

    probe.run = run
    store = ExecutionStore(home.db_path)
    executions = Executions(
        home,
        store,
        load_definition(definition_file, {}),
        {GLUE_START_JOB_RUN_SYNC: glue},
        on_ended=lambda record: None,
        parallel=6,
    )
    # WHEN twelve executions start at once
    names = [executions.start({}, name=f"burst-{i}").name for i in range(12)]
    executions.wait_idle()
    executions.close()
    # THEN none failed, every run ran, and never more than the limit ran at once (observed)
    statuses = {store.find_execution(n).status for n in names}
    assert statuses == {"SUCCEEDED"}
    assert len(seen) == 12
    assert max(seen) == limit == queue.peak
    # AND runs beyond the limit waited in Glue's WAITING state, as GetJobRun shows them
    assert any("WAITING" in states for states in states_while_running)
    assert {run["JobRunState"] for run in glue._job_runs.values()} == {"SUCCEEDED"}
    for run in glue._job_runs.values():
        assert run["JobRunQueuingEnabled"] is True
        assert glue.job_run(run["Id"])["JobRunState"] == "SUCCEEDED"
    # and each waiting execution was submitted at once (TaskSubmitted) and then waited
    events = store.events(home.execution_arn(names[-1]))
    assert [e["type"] for e in events][:4] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
    ]
    assert "TaskSubmitted" in [e["type"] for e in events]
    log = home.execution_log(names[-1]).read_text()
    assert "WAITING" in log


def test_the_queue_serves_first_come_first_served():
    queue = JobRunQueue(1)
    order, started = [], []
    gate = threading.Event()

    def holder():
        with queue.turn():
            started.append("holder")
            gate.wait(5)

    first = threading.Thread(target=holder)
    first.start()
    while not started:
        threading.Event().wait(0.01)
    waiters = []
    for i in range(5):

        def wait(i=i):
            with queue.turn():
                order.append(i)

        thread = threading.Thread(target=wait)
        thread.start()
        waiters.append(thread)
        while queue.waiting < i + 1:  # each in line before the next arrives
            threading.Event().wait(0.005)
    gate.set()
    for thread in [first, *waiters]:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_task_request_of_another_job_is_refused(tmp_path):
    home = LakeHome(tmp_path / "home").ensure()
    glue = GlueStartJobRun(home, tmp_path / "job.py", lambda: None, queue=JobRunQueue(1))
    from lake.asl import TaskFailure

    with pytest.raises(TaskFailure) as refused:
        glue(
            TaskRequest(
                resource="arn:aws:states:::glue:startJobRun.sync",
                parameters={"JobName": "other"},
                state_name="Transform",
                context={"Execution": {"Name": "x"}},
                timeout_seconds=None,
            )
        )
    assert refused.value.error == "Glue.EntityNotFoundException"
