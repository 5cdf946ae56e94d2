"""A lease on one source key's publish step, so that two runs of the same key (a duplicate event
delivery, a quick re-upload, a re-run) publish one after the other, never interleaved.

Only conditional writes touch the lock object, so at most one run holds it whatever interleaves:
- take: create it only if absent (S3 `If-None-Match: *`);
- break a stale one: replace it only if its ETag is still the one read (`If-Match`), so of two
  runs that both found it stale, one wins and the other waits;
- renew while publishing, and release, with `If-Match` on the holder's own ETag: a holder whose
  lease was broken learns it (LeaseLost) instead of overwriting the new holder's lock.

A lock is stale when its holder stopped renewing it for longer than the lease (a run killed on
AWS Glue), or at once when the holder ran on this host and its process is gone (local runs).
(S3 conditional requests: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html)"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

from glue.errors import LeaseLost, PublishLockTimeout
from glue.logs import log_event
from glue.object_store import ObjectStore

LEASE = dt.timedelta(minutes=15)
WAIT = dt.timedelta(minutes=20)
POLL_SECONDS = 1.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def is_stale(holder: dict, lease: dt.timedelta, now: dt.datetime) -> bool:
    """Whether the run that wrote `holder` has stopped holding its lock."""
    try:
        renewed = dt.datetime.fromisoformat(holder["renewed_at"])
    except (KeyError, TypeError, ValueError):
        return True  # unreadable: no live run wrote it this way
    if now - renewed > lease:
        return True
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


class Lease:
    """The held lock: its ETag changes with each renewal."""

    def __init__(self, storage: ObjectStore, uri: str, holder: dict, etag: str) -> None:
        self.storage, self.uri, self.holder, self.etag = storage, uri, holder, etag
        self.lost = False
        self._guard = threading.Lock()

    def renew(self) -> None:
        """Extend the lease; raises LeaseLost when another run broke it meanwhile."""
        with self._guard:
            if not self.lost:
                text = json.dumps({**self.holder, "renewed_at": _now().isoformat()})
                etag = self.storage.replace_if_match(self.uri, text, self.etag)
                self.lost = etag is None
                self.etag = etag or self.etag
            if self.lost:
                raise LeaseLost(
                    f"run {self.holder['run_id']} lost its publish lock {self.uri} (it was "
                    "broken as stale): it published nothing more; the run can be repeated."
                )

    def release(self) -> None:
        with self._guard:
            if not self.lost:
                self.storage.delete_if_match(self.uri, self.etag)


@contextlib.contextmanager
def publish_lock(
    storage: ObjectStore,
    uri: str,
    run_id: str,
    source_key: str,
    lease: dt.timedelta = LEASE,
    wait: dt.timedelta = WAIT,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Lease]:
    """Hold the lock at `uri` for the duration of the block (renewed every third of the lease),
    waiting up to `wait` for it."""
    holder = {"run_id": run_id, "source_key": source_key}
    holder |= {"host": socket.gethostname(), "pid": os.getpid()}
    held = _take(storage, uri, holder, lease, wait, sleep)
    stop = threading.Event()

    def keep_renewing() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            with contextlib.suppress(LeaseLost):
                held.renew()

    renewer = threading.Thread(target=keep_renewing, name=f"lease-{run_id}", daemon=True)
    renewer.start()
    try:
        yield held
    finally:
        stop.set()
        renewer.join()
        held.release()


def _take(
    storage: ObjectStore,
    uri: str,
    holder: dict,
    lease: dt.timedelta,
    wait: dt.timedelta,
    sleep: Callable[[float], None],
) -> Lease:
    deadline = time.monotonic() + wait.total_seconds()
    while True:
        text = json.dumps({**holder, "renewed_at": _now().isoformat()})
        etag = storage.create_exclusive(uri, text)
        if etag is not None:
            return Lease(storage, uri, holder, etag)
        found = storage.read_with_etag(uri)
        if found is None:
            continue  # released between the two calls: try again at once
        current, current_etag = found
        other = _parsed(current)
        if is_stale(other, lease, _now()):
            etag = storage.replace_if_match(uri, text, current_etag)
            if etag is not None:
                log_event("stale lock broken", **holder, stale_holder=other)
                return Lease(storage, uri, holder, etag)
            continue  # another run broke it first: look again
        if time.monotonic() > deadline:
            raise PublishLockTimeout(
                f"{holder['source_key']}: run {other.get('run_id')} has been publishing this key "
                f"for more than {wait}. If no such run is alive, delete {uri} and re-run."
            )
        sleep(POLL_SECONDS)


def _parsed(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
