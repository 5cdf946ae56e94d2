"""EventBridge played locally: the stack's two rules, on their own events.

- An object landed in a bucket (put by the CLI or by any program while `lake watch` runs): S3's
  "Object Created" event, once per object version, starts the workflow when the stack's rule
  matches it. `object_landed` is the one verb for that, whoever noticed the file.
- An execution ended: its "Execution Status Change" event reaches the alert Lambda when the
  alert rule matches it (FAILED, TIMED_OUT, ABORTED), as on AWS."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from contract.events import alert_rule_pattern, object_created_rule_pattern
from glue.object_store import keep_version
from lake.asl import TaskFailure
from lake.aws.event_patterns import matches
from lake.aws.events import execution_status_change_event, local_sequencer, object_created_event
from lake.aws.s3 import file_etag
from lake.home import LakeHome
from lake.runtime.executions import INTERRUPTED, Executions, execution_name_for
from lake.runtime.history_db import ExecutionRecord, ExecutionStore


@dataclass(frozen=True)
class Landing:
    """What an object's landing did: the execution of this version of the object (None when the
    rule does not match or the file is gone), and whether this landing started it."""

    execution: str | None
    started: bool


class EventBridge:
    """Routes the runtime's events as the stack's rules do."""

    def __init__(
        self,
        home: LakeHome,
        store: ExecutionStore,
        executions: Executions,
        alert: Callable[[dict[str, Any]], None],
    ) -> None:
        self.home = home
        self.store = store
        self.executions = executions
        self.alert = alert
        self._landing = threading.Lock()  # one landing decision at a time (the ledger)

    def object_landed(self, bucket: str, key: str) -> Landing:
        """S3 sends one "Object Created" event per PUT: the ledger of object versions (key,
        size, mtime) turns the watcher's and the uploader's notices of the same version into
        one execution. A version whose execution was interrupted lands again. The event names
        the version (kept in the bucket's `.versions/`) and orders it by its write time."""
        path = self.home.object_path(bucket, key)
        with self._landing:
            try:
                # The version as it is now, kept so that its run reads it whatever comes next.
                kept, version = keep_version(path)
            except FileNotFoundError:
                return Landing(None, False)
            stat = kept.stat()
            known = self.store.object_execution(bucket, key, stat.st_size, stat.st_mtime_ns)
            record = self.store.find_execution(known) if known else None
            if record and not (record.status == "ABORTED" and record.error == INTERRUPTED):
                return Landing(record.name, False)
            etag = file_etag(kept)
            event = object_created_event(
                bucket,
                key,
                stat.st_size,
                etag,
                version_id=version,
                sequencer=local_sequencer(stat.st_mtime_ns),
            )
            started = self._deliver(event)
            self.store.record_object(
                bucket, key, stat.st_size, stat.st_mtime_ns, etag, started.arn if started else None
            )
            return Landing(started.name, True) if started else Landing(None, False)

    def _deliver(self, event: Mapping[str, Any]) -> ExecutionRecord | None:
        """The rule that starts the workflow, with the event as the execution's input."""
        if not matches(object_created_rule_pattern(self.home.settings.raw_bucket), event):
            return None
        detail = event["detail"]
        key = unquote_plus(detail["object"]["key"])  # S3 URL-encodes keys in its events
        return self.executions.start(
            dict(event), name=execution_name_for(key), source=(detail["bucket"]["name"], key)
        )

    def execution_ended(self, record: ExecutionRecord) -> None:
        """The execution's status change, to the alert when the alert rule matches it."""
        event = status_change_of(record)
        if matches(alert_rule_pattern(self.home.state_machine_arn), event):
            self.alert(event)


def status_change_of(record: ExecutionRecord) -> dict[str, Any]:
    """The "Step Functions Execution Status Change" event Step Functions sends for a record."""
    return execution_status_change_event(
        execution_arn=record.arn,
        state_machine_arn=record.state_machine_arn,
        name=record.name,
        status=record.status,
        start_date=record.started,
        stop_date=record.stopped,
        input=record.input,
        output=record.output,
        error=record.error,
        cause=record.cause,
        redrive_count=record.redrive_count,
        redrive_date=None
        if record.redrive_date is None
        else dt.datetime.fromtimestamp(record.redrive_date, dt.UTC),
    )


class HistoryReader:
    """The one call of boto3's Step Functions client the alert Lambda makes
    (`get_paginator("get_execution_history")`), served from the history database."""

    def __init__(self, store: ExecutionStore) -> None:
        self.store = store

    def get_paginator(self, operation: str) -> HistoryReader:
        if operation != "get_execution_history":
            raise NotImplementedError(f"the local alert reads only histories, not {operation}")
        return self

    def paginate(
        self, *, executionArn: str, reverseOrder: bool = False, **_: Any
    ) -> Iterator[dict[str, Any]]:
        events = self.store.events(executionArn)
        yield {"events": list(reversed(events)) if reverseOrder else events}


def alert_delivery(invoke: Callable[[dict[str, Any]], Any], fallback: Callable[[str], Any]):
    """The alert rule's target: the alert Lambda, with the stack's on-failure destination (the
    raw event to the topic) when the function itself fails."""

    def deliver(event: dict[str, Any]) -> None:
        try:
            invoke(event)
        except TaskFailure:
            from lake.asl.history import to_json

            fallback(to_json(event))

    return deliver
