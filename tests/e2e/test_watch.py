"""`lake watch`: files copied into the raw folder by any program start executions; a watch
stopped mid-way and started again loses no file."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from e2e_support import export

from lake.runtime.engine_lock import try_lock
from lake.runtime.executions import INTERRUPTED
from lake.runtime.history_db import ExecutionStore
from lake.runtime.service import owning
from lake.runtime.watcher import RawFolderWatcher

pytestmark = pytest.mark.e2e


class Watching:
    """`lake watch` in a thread of this process (it then reuses the warm SparkSession)."""

    def __init__(self, home, parallel: int = 2) -> None:
        self.home = home
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.lock = try_lock(home)
        assert self.lock is not None
        self._owner = owning(home, self.lock, parallel=parallel, time_scale=0.001)
        self.engine = self._owner.__enter__()
        self.watcher = RawFolderWatcher(self.engine, settle_s=0.3)
        self.thread = threading.Thread(target=self.watcher.run, args=(self.stop, self.ready))
        self.thread.start()
        assert self.ready.wait(60)

    def statuses(self) -> dict[str, list[str]]:
        """Source key -> statuses of its executions, newest first."""
        by_key: dict[str, list[str]] = {}
        for record in self.engine.store.list_executions():
            by_key.setdefault(record.source_key, []).append(record.status)
        return by_key

    def wait_until(self, condition, timeout_s: float = 300) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition(self.statuses()):
            assert time.monotonic() < deadline, f"timed out; executions: {self.statuses()}"
            time.sleep(0.2)

    def close(self, kill: bool = False) -> None:
        """Stop; with `kill`, running executions are cut short as a kill would leave them
        (they end interrupted) and queued ones never start."""
        if kill:
            self.engine.interrupt()
        self.stop.set()
        self.thread.join(60)
        self._owner.__exit__(None, None, None)


def _drop(home, tmp_path, names: list[str], rows: int = 60) -> list[str]:
    """Copy exports into the raw folder as any program would; their keys."""
    raw = home.bucket_path(home.settings.raw_bucket) / "travel_times" / "bogota"
    raw.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        shutil.copy(export(tmp_path / name, rows=rows, seed=i), raw / name)
    return [f"travel_times/bogota/{name}" for name in names]


def _rows_by_key(engine) -> dict[str, int]:
    outcome = engine.query("SELECT source_key, count(*) FROM travel_times GROUP BY source_key")
    return dict(outcome.rows)


def test_several_files_dropped_at_once_are_all_processed(lake_home, tmp_path):
    watching = Watching(lake_home)
    try:
        keys = _drop(lake_home, tmp_path, ["a.csv", "b.csv", "c.csv"])
        watching.wait_until(
            lambda s: all(s.get(k, [None])[0] == "SUCCEEDED" for k in keys), timeout_s=300
        )
        statuses = watching.statuses()
        assert all(len(statuses[k]) == 1 for k in keys)  # one execution per file, no duplicate
        assert _rows_by_key(watching.engine) == dict.fromkeys(keys, 60)
    finally:
        watching.close()


def test_a_watch_stopped_mid_way_loses_no_file_when_started_again(lake_home, tmp_path):
    # GIVEN a watch taking one file at a time, cut short while the first one runs
    watching = Watching(lake_home, parallel=1)
    keys = _drop(lake_home, tmp_path, ["d.csv", "e.csv", "f.csv"])
    watching.wait_until(lambda s: len(s) >= 1)
    watching.close(kill=True)
    after_stop = ExecutionStore(lake_home.db_path).list_executions()
    # (the run cut short and the queued ones are recorded as interrupted, none as running)
    assert {r.status for r in after_stop} <= {"SUCCEEDED", "ABORTED"}
    assert any(r.error == INTERRUPTED for r in after_stop)
    # WHEN it starts again
    watching = Watching(lake_home, parallel=2)
    try:
        # THEN every file ends in the lake, each exactly once
        watching.wait_until(lambda s: all(s.get(k, [None])[0] == "SUCCEEDED" for k in keys))
        assert _rows_by_key(watching.engine) == dict.fromkeys(keys, 60)
    finally:
        watching.close()
