"""A lease on one source key's publish step, so that two runs of the same key (a duplicate event
delivery, a quick re-upload) publish one after the other, never interleaved.

The lock is an object created only if absent (local O_EXCL, S3 `If-None-Match: *`). A run that
dies holding it leaves it behind: on the same host a lock whose process is gone is stale at once;
elsewhere (AWS Glue) it is stale once older than the lease time. Publishing takes seconds, so
the lease is long enough for any live run, and a run after a crash waits at most that long."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import time
from collections.abc import Iterator

from glue.errors import PublishLockTimeout
from glue.logs import log_event
from glue.storage import Storage

LEASE = dt.timedelta(minutes=15)
WAIT = dt.timedelta(minutes=20)
POLL_SECONDS = 1.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _is_stale(holder: dict, lease: dt.timedelta) -> bool:
    try:
        acquired = dt.datetime.fromisoformat(holder["acquired_at"])
    except (KeyError, TypeError, ValueError):
        return True  # unreadable: no live run wrote it this way
    if _now() - acquired > lease:
        return True
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


@contextlib.contextmanager
def publish_lock(
    storage: Storage,
    uri: str,
    run_id: str,
    source_key: str,
    lease: dt.timedelta = LEASE,
    wait: dt.timedelta = WAIT,
) -> Iterator[None]:
    """Hold the lock at `uri` for the duration of the block, waiting up to `wait` for it."""
    me = {"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid()}
    deadline = time.monotonic() + wait.total_seconds()
    while not storage.create_exclusive(uri, json.dumps({**me, "acquired_at": _now().isoformat()})):
        text = storage.read_text(uri)
        holder = json.loads(text) if text else {}
        if text is not None and _is_stale(holder, lease):
            log_event("stale lock broken", source_key=source_key, run_id=run_id, holder=holder)
            storage.delete(uri)
            continue
        if time.monotonic() > deadline:
            raise PublishLockTimeout(
                f"{source_key}: run {holder.get('run_id')} has been publishing this key for "
                f"more than {wait}. If no such run is alive, delete {uri} and re-run."
            )
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        text = storage.read_text(uri)
        if text and json.loads(text).get("run_id") == run_id:
            storage.delete(uri)
