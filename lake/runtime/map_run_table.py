"""The Map Runs of a lake home's Distributed Map states, in its execution database
(`lake.runtime.history_db`): DescribeMapRun's fields and counts, one row per Map Run, replaced as
it changes, and the child executions it planned (its items, so that a redrive runs the items of
the original attempt). `ExecutionStore` gets these methods from `MapRunTable`."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from typing import Any

MAP_RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS map_runs (
    map_run_arn TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    state_name TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date REAL NOT NULL,
    stop_date REAL,
    max_concurrency INTEGER NOT NULL,
    tolerated_failure_percentage REAL NOT NULL,
    tolerated_failure_count INTEGER NOT NULL,
    item_counts TEXT NOT NULL,
    execution_counts TEXT NOT NULL,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    cause TEXT
);
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution_arn);
CREATE TABLE IF NOT EXISTS map_run_items (
    map_run_arn TEXT NOT NULL,
    item_index INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT NOT NULL,
    PRIMARY KEY (map_run_arn, item_index)
);
"""


@dataclass
class MapRunRecord:
    """A Map Run as DescribeMapRun shows it (`item_counts`, `execution_counts`: its counts by
    pending, running, succeeded, failed, timedOut, aborted, total, resultsWritten)."""

    map_run_arn: str
    execution_arn: str
    state_name: str
    state_machine_arn: str  # its child executions': <parent state machine>/<label>
    status: str
    start_date: float
    max_concurrency: int
    tolerated_failure_percentage: float
    tolerated_failure_count: int
    item_counts: dict[str, int]
    execution_counts: dict[str, int]
    stop_date: float | None = None
    redrive_count: int = 0
    error: str | None = None
    cause: str | None = None

    def as_json(self) -> dict[str, Any]:
        """DescribeMapRun's answer (ISO dates), plus the Map state's name."""

        def iso(value: float | None) -> str | None:
            return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC).isoformat()

        described = {
            "mapRunArn": self.map_run_arn,
            "executionArn": self.execution_arn,
            "stateName": self.state_name,
            "status": self.status,
            "startDate": iso(self.start_date),
            "stopDate": iso(self.stop_date),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": self.tolerated_failure_percentage,
            "toleratedFailureCount": self.tolerated_failure_count,
            "itemCounts": dict(self.item_counts),
            "executionCounts": dict(self.execution_counts),
            "redriveCount": self.redrive_count,
        }
        if self.error is not None:
            described["error"], described["cause"] = self.error, self.cause
        return described


_MAP_RUN_COLUMNS = [f.name for f in fields(MapRunRecord)]
_JSON_COLUMNS = ("item_counts", "execution_counts")


_MAP_RUN_COLUMNS = [f.name for f in fields(MapRunRecord)]
_JSON_COLUMNS = ("item_counts", "execution_counts")


class MapRunTable:
    """The map_runs table's reads and writes, over the store's connection (`_write`, `_read`)."""

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def save_map_run(self, run: MapRunRecord) -> None:
        """Insert or replace a Map Run (it changes as its child executions start and end)."""
        values = [
            json.dumps(getattr(run, c)) if c in _JSON_COLUMNS else getattr(run, c)
            for c in _MAP_RUN_COLUMNS
        ]
        placeholders = ", ".join("?" for _ in _MAP_RUN_COLUMNS)
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO map_runs ({', '.join(_MAP_RUN_COLUMNS)}) "
                f"VALUES ({placeholders})",
                values,
            )

    def _map_run(self, row: sqlite3.Row) -> MapRunRecord:
        values = dict(row)
        for column in _JSON_COLUMNS:
            values[column] = json.loads(values[column])
        return MapRunRecord(**values)

    def find_map_run(self, map_run_arn: str) -> MapRunRecord | None:
        rows = self._read(
            f"SELECT {', '.join(_MAP_RUN_COLUMNS)} FROM map_runs WHERE map_run_arn = ?",
            (map_run_arn,),
        )
        return self._map_run(rows[0]) if rows else None

    def map_runs(self, execution_arn: str | None = None, status: str | None = None):
        """Map Runs, oldest first: of one execution, of one status, when given."""
        sql = f"SELECT {', '.join(_MAP_RUN_COLUMNS)} FROM map_runs"
        where = {"execution_arn": execution_arn, "status": status}
        conditions = [f"{name} = ?" for name, value in where.items() if value]
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        rows = self._read(
            sql + " ORDER BY start_date, rowid", tuple(v for v in where.values() if v)
        )
        return [self._map_run(row) for row in rows]

    def save_planned_children(self, map_run_arn: str, children: list[tuple[int, str, str]]) -> None:
        """The (index, name, input JSON) of every child execution a Map Run will run."""
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO map_run_items (map_run_arn, item_index, name, input) "
                "VALUES (?, ?, ?, ?)",
                [(map_run_arn, index, name, text) for index, name, text in children],
            )

    def planned_children(self, map_run_arn: str) -> list[tuple[int, str, str]]:
        """What `save_planned_children` kept, in item order."""
        rows = self._read(
            "SELECT item_index, name, input FROM map_run_items WHERE map_run_arn = ? "
            "ORDER BY item_index",
            (map_run_arn,),
        )
        return [(row["item_index"], row["name"], row["input"]) for row in rows]
