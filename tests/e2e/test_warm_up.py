"""The background engine's warm-up: runs of the real Glue script on a small export, written to a
scratch folder only (the lake is untouched), that give way at once to real work."""

from __future__ import annotations

import json
import threading
import time

import pytest

from lake.aws.glue import JobRunQueue, local_max_concurrent_runs
from lake.runtime.engine import Engine
from lake.runtime.warm_up import WARM_UP_ROWS, _warm_up_run

pytestmark = pytest.mark.e2e


def _in_a_thread(fn):
    """Run `fn` in a thread of its own (a job group is a thread's); its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()))
    thread.start()
    thread.join(600)
    return result["value"]


def test_a_warm_up_run_runs_the_real_job_in_a_scratch_folder_only(lake_home, spark, tmp_path):
    with Engine(lake_home, spark_factory=lambda root: spark) as engine:
        scratch = tmp_path / "scratch"
        assert _in_a_thread(lambda: _warm_up_run(engine, scratch, 0, quiet=lambda: True))
        manifest = json.loads((scratch / "curated-0" / "manifests" / "warm-up.json").read_text())
        assert manifest["rows"]["written"] == WARM_UP_ROWS
        assert manifest["rows"]["rejected"] == 1
        curated = lake_home.bucket_path(lake_home.settings.curated_bucket)
        assert not list(curated.rglob("*.parquet"))  # the lake is untouched
        assert not lake_home.execution_log("engine-warm-up").exists()


def test_a_warm_up_run_takes_no_turn_in_the_glue_jobs_run_queue(lake_home, spark, tmp_path):
    # GIVEN the job's run queue, watched while a warm-up run goes on
    queue = JobRunQueue.for_job(
        lake_home.settings.transform_job_name, local_max_concurrent_runs(lake_home.settings)
    )
    running_seen = []

    def quiet() -> bool:  # (asked every 0.1 s while the run goes on)
        running_seen.append(queue.running)
        return True

    with Engine(lake_home, spark_factory=lambda root: spark) as engine:
        # WHEN a warm-up run goes to its end
        assert _in_a_thread(lambda: _warm_up_run(engine, tmp_path / "scratch", 0, quiet=quiet))
    # THEN no Glue run was running meanwhile: a real run would have started at once
    assert running_seen and set(running_seen) == {0}


def test_a_warm_up_run_gives_way_to_real_work(lake_home, spark, tmp_path):
    with Engine(lake_home, spark_factory=lambda root: spark) as engine:
        began = time.monotonic()
        # a request is under way from the start: the run's jobs are cancelled as they come
        assert not _in_a_thread(
            lambda: _warm_up_run(engine, tmp_path / "scratch", 0, quiet=lambda: False)
        )
        assert time.monotonic() - began < 60
        # and the session serves the next job as usual
        assert engine.query("SELECT 1 AS one").rows == [(1,)]


def test_a_warm_up_run_stops_building_its_dataframe_when_real_work_comes(
    lake_home, spark, tmp_path, monkeypatch
):
    # GIVEN a request that comes while the warm-up builds its DataFrame on the driver (between
    # two Spark jobs, where cancelling the job group stops nothing)
    from glue import rows
    from lake.runtime.warm_up import WARM_UP_JOB_GROUP

    request_came, request_seen, reached = threading.Event(), threading.Event(), []
    classify = rows.classify

    def quiet() -> bool:
        if request_came.is_set():
            request_seen.set()
        return not request_came.is_set()

    def classify_while_a_request_comes(*args, **kwargs):
        reached.append(True)
        request_came.set()
        assert request_seen.wait(30)  # the run's watcher has seen it
        return classify(*args, **kwargs)

    monkeypatch.setattr(rows, "classify", classify_while_a_request_comes)
    tracker = spark.sparkContext.statusTracker()
    jobs_before = set(tracker.getJobIdsForGroup(WARM_UP_JOB_GROUP))
    with Engine(lake_home, spark_factory=lambda root: spark) as engine:
        # WHEN the warm-up run goes on
        assert not _in_a_thread(lambda: _warm_up_run(engine, tmp_path / "scratch", 0, quiet))
    # THEN it stopped at the job's next step: no Spark job of its own ran after the request
    assert reached, "the run reached its checks"
    assert set(tracker.getJobIdsForGroup(WARM_UP_JOB_GROUP)) == jobs_before
    assert not (tmp_path / "scratch" / "curated-0" / "manifests").exists()
