"""Publish a run's staged files into the table so that the table holds exactly one version of
each source key, however runs are repeated, duplicated or interrupted (the contract's invariant).

Spark writes a run's output under `_staging/<run_id>/` first. Publishing then works on the files
of one key only, named by h = sha256(source_key)[:16], under that key's lock (`glue.lock`):

  a. read the commit record `_commits/travel_times/<h>.json`: the files of the published version;
  b. write the intent `_commits/travel_times/<h>.<run_id>.intent.json`: the files this run will
     place and the files they replace;
  c. move each staged file to `travel_times/<partition>/<h>-<run_id>-<n>.snappy.parquet`;
  d. replace the commit record with this run's files: THE COMMIT POINT;
  e. delete the replaced files, and every file named by a stale intent of this key (left by an
     interrupted run) that the new record does not hold; then the intents and the staging.

Guarantees. Only files named `<h>-...` of this key's records and intents are ever deleted, so
no other key is touched. A run killed before (b) changes nothing visible. Killed during (c), it
leaves some new files beside the old version; killed after (d), old files beside the new; in
both cases the intent names every such file, and the next run of the key (a re-run, redrive or
re-upload) deletes them. Writes of records are whole-object replacements (local os.replace;
one S3 PUT), and local moves are atomic renames.

What it does not give: S3 has no multi-object atomicity (and a move is copy + delete), so while
(c) to (e) run, a reader listing the partitions may see both versions for a moment, and a run
killed there leaves them both visible until the next run of the key. Readers that must never see
that can read the files named by the commit records."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from contract.layout import COMMITS_PREFIX, RAW_PREFIX, REJECTS_PREFIX, STAGING_PREFIX, TABLE_PREFIX
from glue.lock import publish_lock
from glue.logs import log_event
from glue.partition import Partition
from glue.storage import Storage, join


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
    return join(curated, COMMITS_PREFIX, f"{key_hash(source_key)}.json")


def _intent_path(curated: str, source_key: str, run_id: str) -> str:
    return join(curated, COMMITS_PREFIX, f"{key_hash(source_key)}.{run_id}.intent.json")


@dataclass(frozen=True)
class StagedFile:
    uri: str
    partition: Partition


@dataclass(frozen=True)
class Publication:
    """What publishing changed. Paths are relative to the curated root."""

    files: list[str]
    removed: list[str]
    partitions_emptied: list[Partition]
    previous_run_id: str | None
    rejects_path: str | None


def _table_file(partition: Partition, source_key: str, run_id: str, n: int) -> str:
    return f"{TABLE_PREFIX}{partition.path}/{key_hash(source_key)}-{run_id}-{n}.snappy.parquet"


def _name(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _read_json(storage: Storage, uri: str) -> dict:
    text = storage.read_text(uri)
    return json.loads(text) if text else {}


def write_commit_record(storage: Storage, uri: str, record: dict) -> None:
    """Replace the commit record whole: the commit point of a run."""
    storage.write_text(uri, json.dumps(record, indent=1))


def _each(storage: Storage, action: Callable[..., None], *args: Iterable) -> None:
    if storage.parallelism <= 1:
        for item in zip(*args, strict=True):
            action(*item)
        return
    with ThreadPoolExecutor(storage.parallelism) as pool:
        list(pool.map(action, *args))  # list(): re-raises the first failure


def publish(
    storage: Storage,
    curated: str,
    source_key: str,
    run_id: str,
    staged_files: list[StagedFile],
    staged_rejects: list[str],
) -> Publication:
    """Make the staged files the published version of `source_key` (steps a to e above), and its
    rejects the key's rejects; then delete the run's staging."""
    h = key_hash(source_key)
    record_uri = record_path(curated, source_key)
    intent_uri = _intent_path(curated, source_key, run_id)
    counters: dict[Partition, int] = {}
    placements = []
    for staged in sorted(staged_files, key=lambda f: (f.partition, f.uri)):
        n = counters[staged.partition] = counters.get(staged.partition, -1) + 1
        placements.append((staged.uri, _table_file(staged.partition, source_key, run_id, n)))
    files = [target for _, target in placements]

    with publish_lock(storage, join(curated, COMMITS_PREFIX, f"{h}.lock"), run_id, source_key):
        previous = _read_json(storage, record_uri)  # (a)
        stale_uris = [
            uri
            for uri in storage.list(join(curated, COMMITS_PREFIX, f"{h}."))
            if uri.endswith(".intent.json") and _name(uri) != _name(intent_uri)
        ]
        stale = [_read_json(storage, uri) for uri in stale_uris]
        replaced = sorted(set(previous.get("files", [])))
        storage.write_text(  # (b)
            intent_uri,
            json.dumps(
                {"source_key": source_key, "run_id": run_id, "files": files, "replaces": replaced}
            ),
        )
        _each(  # (c)
            storage,
            storage.move,
            [source for source, _ in placements],
            [join(curated, target) for _, target in placements],
        )
        write_commit_record(  # (d)
            storage,
            record_uri,
            {
                "source_key": source_key,
                "run_id": run_id,
                "committed_at": dt.datetime.now(dt.UTC).isoformat(),
                "files": files,
            },
        )
        log_event("committed", source_key=source_key, run_id=run_id, files=len(files))
        leftovers = set(replaced)  # (e)
        for intent in stale:
            leftovers |= set(intent.get("files", [])) | set(intent.get("replaces", []))
        removed = sorted(leftovers - set(files))
        # Only this key's own files: a record or intent naming anything else was not ours.
        removed = [f for f in removed if _name(f).startswith(f"{h}-")]
        _each(storage, storage.delete, [join(curated, f) for f in removed])
        rejects_path = _publish_rejects(storage, curated, source_key, run_id, staged_rejects)
        for uri in [*stale_uris, intent_uri]:
            storage.delete(uri)
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


def _publish_rejects(
    storage: Storage, curated: str, source_key: str, run_id: str, staged: list[str]
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
