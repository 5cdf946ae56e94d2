"""The execution database of a lake home: executions, their AWS-style history, the Map Runs of
Distributed Map states, and the ledger of raw objects already handed to the workflow.

SQLite in WAL mode: one process writes (the engine's owner, see lake.runtime.service) while any
number of `lake` processes read, without blocking each other. History events are stored the moment
the executor emits them, so another process can follow an execution as it runs."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from lake.runtime.map_run_table import MAP_RUNS_SCHEMA, MapRunRecord, MapRunTable

__all__ = ["ExecutionRecord", "ExecutionStore", "MapRunRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    state_machine_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_date REAL NOT NULL,
    stop_date REAL,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_date REAL,
    source_bucket TEXT,
    source_key TEXT,
    rerun_of TEXT,
    parent_arn TEXT,
    map_run_arn TEXT,
    map_item_index INTEGER
);
CREATE INDEX IF NOT EXISTS executions_by_start ON executions (start_date);

CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL,
    execution_arn TEXT,
    seen_at REAL NOT NULL,
    PRIMARY KEY (bucket, key, size, mtime_ns)
);
"""
# Columns added after the first release: a database made before them gains them in place.
_ADDED_COLUMNS = {"parent_arn": "TEXT", "map_run_arn": "TEXT", "map_item_index": "INTEGER"}
_INDEXES_OF_ADDED = (
    "CREATE INDEX IF NOT EXISTS executions_by_parent ON executions (parent_arn)",
    "CREATE INDEX IF NOT EXISTS executions_by_map_run ON executions (map_run_arn)",
)
TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class ExecutionRecord:
    """One execution as DescribeExecution shows it, plus the raw object it was started for."""

    arn: str
    name: str
    state_machine_arn: str
    status: str
    input: str | None
    start_date: float
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: float | None = None
    redrive_count: int = 0
    redrive_date: float | None = None
    source_bucket: str | None = None
    source_key: str | None = None
    rerun_of: str | None = None
    parent_arn: str | None = None  # the execution whose task started it (startExecution)
    map_run_arn: str | None = None  # set for a child execution of a Distributed Map's Map Run
    map_item_index: int | None = None  # which item (or first item of a batch) that child ran

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.start_date, dt.UTC)

    @property
    def stopped(self) -> dt.datetime | None:
        return None if self.stop_date is None else dt.datetime.fromtimestamp(self.stop_date, dt.UTC)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def as_json(self) -> dict[str, Any]:
        """DescribeExecution-like JSON (camelCase keys, ISO dates)."""

        def iso(value: float | None) -> str | None:
            return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC).isoformat()

        return {
            "executionArn": self.arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": iso(self.start_date),
            "stopDate": iso(self.stop_date),
            "input": self.input,
            "output": self.output,
            "error": self.error,
            "cause": self.cause,
            "redriveCount": self.redrive_count,
            "redriveDate": iso(self.redrive_date),
            "sourceBucket": self.source_bucket,
            "sourceKey": self.source_key,
            "rerunOf": self.rerun_of,
            "parentArn": self.parent_arn,
            "mapRunArn": self.map_run_arn,
        }


_COLUMNS = [f.name for f in fields(ExecutionRecord)]


class ExecutionStore(MapRunTable):
    """Executions, history events and the object ledger of one lake home."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the threads of this process, serialized by a lock: writes
        # are tiny, and SQLite connections must not be used by two threads at once.
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA + MAP_RUNS_SCHEMA)
            self._add_new_columns()
            self._conn.commit()

    def _add_new_columns(self) -> None:
        """Upgrade a database made by an earlier version in place: add the columns it lacks."""
        present = {row["name"] for row in self._conn.execute("PRAGMA table_info(executions)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:
                self._conn.execute(f"ALTER TABLE executions ADD COLUMN {name} {kind}")
        for statement in _INDEXES_OF_ADDED:
            self._conn.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- executions ----------------------------------------------------------------------
    def insert_execution(self, record: ExecutionRecord) -> None:
        values = [getattr(record, c) for c in _COLUMNS]
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO executions ({', '.join(_COLUMNS)}) VALUES ({placeholders})", values
            )

    def update_execution(self, arn: str, **changes: Any) -> None:
        unknown = set(changes) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown execution field(s): {', '.join(sorted(unknown))}")
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._write() as conn:
            conn.execute(
                f"UPDATE executions SET {assignments} WHERE arn = ?", [*changes.values(), arn]
            )

    def find_execution(self, identifier: str) -> ExecutionRecord | None:
        """An execution by ARN or by name."""
        rows = self._read(
            f"SELECT {', '.join(_COLUMNS)} FROM executions WHERE arn = ? OR name = ?",
            (identifier, identifier),
        )
        return ExecutionRecord(**dict(rows[0])) if rows else None

    def list_executions(
        self,
        status: str | None = None,
        limit: int | None = None,
        state_machine_arn: str | None = None,
        map_run_arn: str | None = None,
        parent_arn: str | None = None,
    ) -> list[ExecutionRecord]:
        """Newest first; of one status, of one state machine, started by one parent when given.
        A Map Run's child executions are listed only by their `map_run_arn` (as ListExecutions
        lists them only by mapRunArn)."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM executions"
        where = {
            "status": status,
            "state_machine_arn": state_machine_arn,
            "map_run_arn": map_run_arn,
            "parent_arn": parent_arn,
        }
        conditions = [f"{name} = ?" for name, value in where.items() if value]
        params = tuple(value for value in where.values() if value)
        if not map_run_arn:
            conditions.append("map_run_arn IS NULL")
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        sql += " ORDER BY start_date DESC, rowid DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [ExecutionRecord(**dict(row)) for row in self._read(sql, params)]

    # --- history -------------------------------------------------------------------------
    def add_event(self, execution_arn: str, event: Mapping[str, Any]) -> None:
        """Store one history event. The same event id twice is stored once (a redrive replays
        nothing, but an at-least-once caller must be harmless)."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO events (execution_arn, id, type, body) VALUES (?, ?, ?, ?)",
                (execution_arn, int(event["id"]), event["type"], json.dumps(event, default=str)),
            )

    def events(self, execution_arn: str, after_id: int = 0) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT body FROM events WHERE execution_arn = ? AND id > ? ORDER BY id",
            (execution_arn, after_id),
        )
        return [json.loads(row["body"]) for row in rows]

    # --- the ledger of raw objects -------------------------------------------------------
    def object_execution(self, bucket: str, key: str, size: int, mtime_ns: int) -> str | None:
        """The execution started for this version of an object, if any (None: not yet seen)."""
        rows = self._read(
            "SELECT execution_arn FROM objects WHERE bucket = ? AND key = ? AND size = ? "
            "AND mtime_ns = ?",
            (bucket, key, size, mtime_ns),
        )
        return rows[0]["execution_arn"] if rows else None

    def record_object(
        self,
        bucket: str,
        key: str,
        size: int,
        mtime_ns: int,
        etag: str,
        execution_arn: str | None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO objects "
                "(bucket, key, size, mtime_ns, etag, execution_arn, seen_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (bucket, key, size, mtime_ns, etag, execution_arn, dt.datetime.now().timestamp()),
            )

    def executions_for_key(self, bucket: str, key: str) -> list[ExecutionRecord]:
        """Executions started for any version of one object, newest first."""
        rows = self._read(
            f"SELECT {', '.join('e.' + c for c in _COLUMNS)} FROM executions e "
            "WHERE e.source_bucket = ? AND e.source_key = ? ORDER BY e.start_date DESC",
            (bucket, key),
        )
        return [ExecutionRecord(**dict(row)) for row in rows]
