"""The two EventBridge events of the workflow, shaped exactly as AWS delivers them.

- S3 "Object Created" (source `aws.s3`): what a PUT into the raw bucket sends; it is matched
  against `contract.events.object_created_rule_pattern` and becomes the execution's input.
- "Step Functions Execution Status Change" (source `aws.states`): what an execution that ends
  FAILED, TIMED_OUT or ABORTED sends; it feeds the alert."""

from __future__ import annotations

import datetime as dt
import secrets
import time
import uuid
from typing import Any
from urllib.parse import quote_plus

from contract.events import ALERT_STATUSES
from lake.home import LOCAL_ACCOUNT, LOCAL_REGION

REDRIVABLE_STATUSES = ALERT_STATUSES  # AWS redrives executions that failed, timed out or aborted
_SEQUENCE_START = time.time_ns()


def _event_time(at: dt.datetime | None) -> str:
    # EventBridge's `time` is second-precision UTC with a Z.
    return (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sequencer() -> str:
    # S3's sequencer: a hex string that grows with each event for the same key.
    return format(time.time_ns() - _SEQUENCE_START + (1 << 60), "X")


def local_sequencer(mtime_ns: int) -> str:
    """The sequencer of a local object's upload: its write time, so that every process that
    notices the file gives it the same one, and a later upload of the key a greater one."""
    return f"{mtime_ns:018X}"


def _envelope(
    detail_type: str, source: str, at: dt.datetime | None, resource: str, detail: dict[str, Any]
) -> dict[str, Any]:
    """An event as EventBridge delivers it: its envelope (EventBridge User Guide, "Amazon
    EventBridge events") around the service's `detail`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": LOCAL_ACCOUNT,
        "time": _event_time(at),
        "region": LOCAL_REGION,
        "resources": [resource],
        "detail": detail,
    }


def object_created_event(
    bucket: str,
    key: str,
    size: int,
    etag: str,
    *,
    at: dt.datetime | None = None,
    reason: str = "PutObject",
    version_id: str | None = None,
    sequencer: str | None = None,
) -> dict[str, Any]:
    """The S3 "Object Created" event as EventBridge delivers it. `etag` may carry S3's quotes;
    events carry it bare. `version-id` is there for versioned buckets (the raw bucket is).
    S3 URL-encodes the key in its events (a space becomes '+'); consumers decode it."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "etag": etag.strip('"')}
    if version_id:
        obj["version-id"] = version_id
    obj["sequencer"] = sequencer or _sequencer()
    detail = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": obj,
        "request-id": secrets.token_hex(8).upper(),
        "requester": LOCAL_ACCOUNT,
        "source-ip-address": "127.0.0.1",
        "reason": reason,
    }
    return _envelope("Object Created", "aws.s3", at, f"arn:aws:s3:::{bucket}", detail)


def execution_status_change_event(
    *,
    execution_arn: str,
    state_machine_arn: str,
    name: str,
    status: str,
    start_date: dt.datetime,
    stop_date: dt.datetime | None,
    input: str | None,
    output: str | None = None,
    error: str | None = None,
    cause: str | None = None,
    redrive_count: int = 0,
    redrive_date: dt.datetime | None = None,
    redrive_status: str | None = None,
    redrive_status_reason: str | None = None,
) -> dict[str, Any]:
    """The "Step Functions Execution Status Change" event. Dates in `detail` are epoch
    milliseconds, as Step Functions sends them."""

    def millis(value: dt.datetime | None) -> int | None:
        return None if value is None else int(value.timestamp() * 1000)

    if redrive_status is None:
        redrive_status = "REDRIVABLE" if status in REDRIVABLE_STATUSES else "NOT_REDRIVABLE"
    detail = {
        "executionArn": execution_arn,
        "stateMachineArn": state_machine_arn,
        "name": name,
        "status": status,
        "startDate": millis(start_date),
        "stopDate": millis(stop_date),
        "input": input,
        "output": output,
        "inputDetails": {"included": input is not None},
        "outputDetails": {"included": output is not None} if output is not None else None,
        "error": error,
        "cause": cause,
        "stateMachineVersionArn": None,
        "stateMachineAliasArn": None,
        "redriveCount": redrive_count,
        "redriveDate": millis(redrive_date),
        "redriveStatus": redrive_status,
        "redriveStatusReason": redrive_status_reason,
    }
    return _envelope(
        "Step Functions Execution Status Change",
        "aws.states",
        stop_date or start_date,
        execution_arn,
        detail,
    )


def object_of_event(event: Any) -> tuple[str, str] | None:
    """The (bucket, key) an S3 "Object Created" event names, the key as the event carries it
    (URL-encoded from S3; raw when a backfill built the event from a listing); None for any
    other input."""
    if not isinstance(event, dict) or event.get("source") != "aws.s3":
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    if isinstance(bucket, str) and isinstance(key, str):
        return bucket, key
    return None
