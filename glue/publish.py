"""Publish a run's staged files into the table so that the table holds exactly one version of
each source key, the latest uploaded, however runs are repeated, duplicated, reordered or
interrupted (the contract's invariant).

Spark writes a run's output under `_staging/<run_id>/` first. Publishing then works on the files
of one key only, named `<h>-<run_id>-<n>.snappy.parquet` with h = sha256(source_key)[:16],
under that key's lock (`glue.lock`):

  a. read the commit record `_commits/<source key>.json`: the version the table holds and its
     files. When it holds a newer upload of the key than this run's, stop: publish nothing
     (the run is "superseded", and succeeds);
  b. move each staged file into its partition;
  c. replace the commit record with this run's version and files: THE COMMIT POINT;
  d. delete every file of this key (`<h>-*` in the key's city) that the record does not list:
     the version replaced, and the orphans of any run that died or lost its lock mid-publish.

Guarantees. Only `<h>-*` files are ever deleted, so no other key is touched. A run killed
before (c) leaves some new files beside the old version, one killed after it old files beside
the new; the next run of the key (a re-run, redrive or re-upload) deletes them, as (d) looks at
what is there rather than at what some run meant to do.

What it does not give: S3 has no multi-object atomicity (and a move is copy + delete), so while
(b) to (d) run, a reader listing the partitions may see both versions for a moment, and a run
killed there leaves them both visible until the next run of the key. Readers that must never see
that can read the files named by the commit records."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from contract.layout import (
    COMMITS_PREFIX,
    RAW_PREFIX,
    REJECTS_PREFIX,
    STAGING_PREFIX,
    TABLE_PREFIX,
    commit_record_key,
    parse_source_key,
    publish_lock_key,
)
from glue.lock import publish_lock
from glue.logs import log_event
from glue.object_store import ObjectStore, join
from glue.partition import Partition
from glue.source import SourceVersion, sequencer_order


def key_hash(source_key: str) -> str:
    """The 16 hex digits that prefix every file of this source key."""
    return hashlib.sha256(source_key.encode("utf-8")).hexdigest()[:16]


def staging_path(curated: str, run_id: str) -> str:
    """Where Spark writes this run's output before it is published."""
    return join(curated, STAGING_PREFIX, run_id)


def rejects_folder(curated: str, source_key: str) -> str:
    """Where the rejected rows of this key live: `rejects/travel_times/<city>/<file name>/`."""
    return join(curated, REJECTS_PREFIX, source_key.removeprefix(RAW_PREFIX)) + "/"


def record_path(curated: str, source_key: str) -> str:
    return join(curated, commit_record_key(source_key))


def _legacy_record_path(curated: str, source_key: str) -> str:
    # Where lakes made before version ordering kept the record (read, never written).
    return join(curated, COMMITS_PREFIX, RAW_PREFIX, f"{key_hash(source_key)}.json")


@dataclass(frozen=True)
class StagedFile:
    uri: str
    partition: Partition


@dataclass(frozen=True)
class Publication:
    """What publishing changed. Paths are relative to the curated root. `superseded_by` names
    the newer version that made this run publish nothing (then every list is empty)."""

    files: list[str]
    removed: list[str]
    partitions_emptied: list[Partition]
    previous_run_id: str | None
    rejects_path: str | None
    superseded_by: str | None = None


def newer_version(
    record: dict, mine: SourceVersion, current_version: Callable[[], str | None]
) -> str | None:
    """The version, newer than `mine`, that the table holds or the key now has; None when this
    run's version is the latest uploaded and may be published.

    With two sequencers, S3's order of the uploads decides; an upload's run publishes when the
    key was never published. Without (a backfill's or a hand-started run, a record written
    before sequencers were kept), the version the bucket holds now is the latest uploaded: a
    run whose version is no longer current is superseded."""
    theirs = record.get("sequencer")
    if mine.sequencer and theirs:
        if sequencer_order(mine.sequencer, theirs) < 0:
            return record.get("version_id") or f"sequencer {theirs}"
        return None
    if (mine.sequencer and not record) or not mine.version_id:
        return None
    current = current_version()
    return current if current and current != mine.version_id else None


def read_record(storage: ObjectStore, curated: str, source_key: str) -> dict:
    """The key's commit record ({} when it was never published)."""
    for uri in (record_path(curated, source_key), _legacy_record_path(curated, source_key)):
        text = storage.read_text(uri)
        if text:
            return json.loads(text)
    return {}


def write_commit_record(storage: ObjectStore, uri: str, record: dict) -> None:
    """Replace the commit record whole: the commit point of a run."""
    storage.write_text(uri, json.dumps(record, indent=1))


def _each(storage: ObjectStore, action: Callable[..., None], *args: Iterable) -> None:
    if storage.parallelism <= 1:
        for item in zip(*args, strict=True):
            action(*item)
        return
    with ThreadPoolExecutor(storage.parallelism) as pool:
        list(pool.map(action, *args))  # list(): re-raises the first failure


def _table_file(partition: Partition, h: str, run_id: str, n: int) -> str:
    return f"{TABLE_PREFIX}{partition.path}/{h}-{run_id}-{n}.snappy.parquet"


def _name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def publish(
    storage: ObjectStore,
    curated: str,
    source_key: str,
    run_id: str,
    version: SourceVersion,
    current_version: Callable[[], str | None],
    staged_files: list[StagedFile],
    staged_rejects: list[str],
) -> Publication:
    """Make the staged files the published version of `source_key` (steps a to d above), and its
    rejects the key's rejects, unless a newer upload of the key is published or current; then
    delete the run's staging. `current_version` asks the raw bucket for the key's version now."""
    h = key_hash(source_key)
    counters: dict[Partition, int] = {}
    placements = []
    for staged in sorted(staged_files, key=lambda f: (f.partition, f.uri)):
        n = counters[staged.partition] = counters.get(staged.partition, -1) + 1
        placements.append((staged.uri, _table_file(staged.partition, h, run_id, n)))
    files = [target for _, target in placements]
    lock = join(curated, publish_lock_key(source_key))

    with publish_lock(storage, lock, run_id, source_key) as lease:
        previous = read_record(storage, curated, source_key)  # (a)
        newer = newer_version(previous, version, current_version)
        if newer is not None:
            log_event("superseded", source_key=source_key, run_id=run_id, by=newer)
            storage.delete_prefix(staging_path(curated, run_id) + "/")
            return Publication([], [], [], previous.get("run_id"), None, superseded_by=newer)
        _each(  # (b)
            storage,
            storage.move,
            [source for source, _ in placements],
            [join(curated, target) for _, target in placements],
        )
        lease.renew()  # fails (LeaseLost) rather than commit over a run that broke the lock
        write_commit_record(  # (c)
            storage,
            record_path(curated, source_key),
            {
                "source_key": source_key,
                "run_id": run_id,
                "committed_at": dt.datetime.now(dt.UTC).isoformat(),
                "version_id": version.version_id,
                "sequencer": _sequencer_of(version, previous),
                "source_etag": version.etag,
                "files": files,
            },
        )
        log_event("committed", source_key=source_key, run_id=run_id, files=len(files))
        removed = _orphans(storage, curated, source_key, set(files))  # (d)
        _each(storage, storage.delete, [join(curated, f) for f in removed])
        rejects_path = _publish_rejects(storage, curated, source_key, run_id, staged_rejects)
    storage.delete_prefix(staging_path(curated, run_id) + "/")

    new_partitions = {Partition.from_path(f) for f in files}
    emptied = sorted({Partition.from_path(f) for f in removed} - new_partitions)
    return Publication(
        files=files,
        removed=removed,
        partitions_emptied=emptied,
        previous_run_id=previous.get("run_id"),
        rejects_path=rejects_path,
    )


def _sequencer_of(version: SourceVersion, previous: dict) -> str | None:
    """The run's sequencer; a run without one (a backfill) of the version already recorded keeps
    the record's, so that a late run of an older upload is still known to be older."""
    if version.sequencer or previous.get("version_id") != version.version_id:
        return version.sequencer
    return previous.get("sequencer")


def _orphans(storage: ObjectStore, curated: str, source_key: str, keep: set[str]) -> list[str]:
    """Every table file of this key (in its city's partitions) that is not in `keep`."""
    h = key_hash(source_key)
    root = curated.rstrip("/") + "/"
    city = join(curated, TABLE_PREFIX, f"city={parse_source_key(source_key).city}") + "/"
    found = [uri[len(root) :] for uri in storage.list(city) if _name(uri).startswith(f"{h}-")]
    return sorted(set(found) - keep)


def _publish_rejects(
    storage: ObjectStore, curated: str, source_key: str, run_id: str, staged: list[str]
) -> str | None:
    """Replace the key's rejects with this run's (or none): new file in first, then old out."""
    folder = rejects_folder(curated, source_key)
    targets = [
        join(folder, f"rejects-{run_id}{f'-{n}' if n else ''}.csv") for n in range(len(staged))
    ]
    for source, target in zip(staged, targets, strict=True):
        storage.move(source, target)
    for uri in storage.list(folder):
        if _name(uri) not in {_name(t) for t in targets}:
            storage.delete(uri)
    return targets[0] if targets else None
