"""Publishing under races, without Spark: the per-key lock taken and broken only by conditional
writes, the order of uploads (sequencers), orphans of any interleaving swept, the lease.

Interleavings are driven deterministically: a store whose conditional writes wait for the test
to let them through, and an injected sleep, never a timed race."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest

from contract.layout import commit_record_key, publish_lock_key
from glue.errors import LeaseLost
from glue.lock import is_stale, publish_lock
from glue.object_store import LocalStorage, keep_version, local_version_id
from glue.partition import Partition
from glue.publish import StagedFile, key_hash, newer_version, publish, read_record, staging_path
from glue.source import SourceVersion, sequencer_order

KEY = "travel_times/bogota/2019-q2.csv"
OTHER = "travel_times/bogota/2019-q3.csv"
DAY = Partition("bogota", 2019, 4, 1)
LATER = Partition("bogota", 2019, 5, 1)


def stale_lock(store: LocalStorage, curated: Path) -> str:
    """A lock left by a run that died an hour ago on another host."""
    uri = str(curated / publish_lock_key(KEY))
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    store.write_text(
        uri, json.dumps({"run_id": "dead", "host": "gone", "renewed_at": old.isoformat()})
    )
    return uri


def staged(curated: Path, run_id: str, *partitions: Partition) -> list[StagedFile]:
    files = []
    for n, partition in enumerate(partitions):
        path = (
            Path(staging_path(str(curated), run_id))
            / "table"
            / partition.path
            / f"part-{n}.parquet"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{run_id} rows of {partition.path}")
        files.append(StagedFile(str(path), partition))
    return files


def table_files(curated: Path) -> list[str]:
    return sorted(
        p.relative_to(curated).as_posix() for p in (curated / "travel_times").rglob("*.parquet")
    )


def run_publish(store, curated, run_id, version=None, *partitions, key=KEY, current=None):
    return publish(
        store,
        str(curated),
        key,
        run_id,
        version or SourceVersion(),
        lambda: current,
        staged(curated, run_id, *(partitions or (DAY,))),
        [],
    )


class GatedStore(LocalStorage):
    """Holds a chosen thread's conditional replace until the test opens the gate."""

    def __init__(self) -> None:
        self.gated: str | None = None
        self.reached = threading.Event()
        self.gate = threading.Event()

    def replace_if_match(self, uri, text, etag):
        if threading.current_thread().name == self.gated:
            self.reached.set()
            self.gate.wait(10)
        return super().replace_if_match(uri, text, etag)


def test_two_runs_finding_the_same_stale_lock_never_both_hold_it(tmp_path):
    # GIVEN a crashed run's lock, and run C about to break it (it read it and found it stale)
    store, holders, order = GatedStore(), [], []
    uri = stale_lock(store, tmp_path)
    store.gated = "C"
    c_may_go_on = threading.Event()

    def c_sleeps(_seconds):  # C, waiting for the lock, wakes up only once B released it
        order.append("C waits")
        c_may_go_on.wait(10)

    def run_c():
        with publish_lock(store, uri, "C", KEY, sleep=c_sleeps):
            holders.append("C")
            order.append("C holds")
            holders.remove("C")

    c = threading.Thread(target=run_c, name="C")
    c.start()
    assert store.reached.wait(10)
    # WHEN run B breaks the stale lock first, and only then C's replace goes through
    with publish_lock(store, uri, "B", KEY):
        holders.append("B")
        order.append("B holds")
        store.gate.set()
        while "C waits" not in order:  # C's conditional replace failed: it waits for B
            threading.Event().wait(0.01)
        assert holders == ["B"]
        holders.remove("B")
    c_may_go_on.set()
    c.join(10)
    # THEN one holder at a time: B, then C after B let go; and no lock is left behind
    assert order == ["B holds", "C waits", "C holds"]
    assert not Path(uri).exists()


def test_a_live_holder_is_waited_for_and_a_holder_that_stopped_renewing_is_stale():
    now = dt.datetime.now(dt.UTC)
    live = {"run_id": "a", "host": "elsewhere", "renewed_at": now.isoformat()}
    assert not is_stale(live, dt.timedelta(minutes=15), now)
    assert is_stale(live, dt.timedelta(minutes=15), now + dt.timedelta(minutes=16))
    assert is_stale({"garbage": True}, dt.timedelta(minutes=15), now)


def test_a_run_whose_lease_was_broken_commits_nothing(tmp_path):
    # GIVEN run A inside the lock, and its lease broken meanwhile by run B (A hung too long)
    store = LocalStorage()
    uri = str(tmp_path / publish_lock_key(KEY))
    with publish_lock(store, uri, "A", KEY) as lease:
        store.write_text(uri, json.dumps({"run_id": "B", "renewed_at": "x"}))
        # WHEN A renews before its commit THEN it learns it lost the lock
        with pytest.raises(LeaseLost, match="lost its publish lock"):
            lease.renew()
    # and its release leaves B's lock alone
    assert json.loads(Path(uri).read_text())["run_id"] == "B"


def test_orphans_of_any_interleaving_are_removed_by_the_next_run_of_the_key(tmp_path):
    # GIVEN a published version, an orphan of a run that died mid-publish, and another key's file
    store = LocalStorage()
    run_publish(store, tmp_path, "first")
    orphan = tmp_path / "travel_times" / LATER.path / f"{key_hash(KEY)}-dead-0.snappy.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("rows of a run that died")
    run_publish(store, tmp_path, "neighbour", key=OTHER)
    # WHEN the key runs again
    publication = run_publish(store, tmp_path, "second")
    # THEN only this run's files of the key remain, and the other key's file is untouched
    h = key_hash(KEY)
    assert [f for f in table_files(tmp_path) if f"/{h}-" in f] == publication.files
    assert len([f for f in table_files(tmp_path) if f"/{key_hash(OTHER)}-" in f]) == 1
    assert LATER in publication.partitions_emptied
    assert read_record(store, str(tmp_path), KEY)["files"] == publication.files


def test_sequencers_compare_as_s3_says_right_padded():
    assert sequencer_order("0055AED6DCD90281E5", "0055AED6DCD90281E6") == -1
    assert sequencer_order("0055AED6DCD90281E5", "0055AED6DCD90281E5") == 0
    assert sequencer_order("0055AED6DCD9028", "0055AED6DCD90281E5") == -1  # right-padded
    assert sequencer_order("0056", "0055AED6DCD90281E5") == 1


def test_an_older_upload_that_finishes_later_publishes_nothing_and_says_so(tmp_path):
    # GIVEN the table holds the upload with sequencer ...02 of the key
    store = LocalStorage()
    newer = SourceVersion("v2", "0055AED6DCD90281E2", "etag2")
    published = run_publish(store, tmp_path, "v2run", newer, DAY)
    # WHEN the run of the earlier upload (...01) finishes after it
    older = SourceVersion("v1", "0055AED6DCD90281E1", "etag1")
    late = run_publish(store, tmp_path, "v1run", older, LATER)
    # THEN it publishes nothing, names the version that superseded it, and leaves no staging
    assert late.superseded_by == "v2" and late.files == []
    assert [f for f in table_files(tmp_path)] == published.files
    record = read_record(store, str(tmp_path), KEY)
    assert (record["version_id"], record["sequencer"], record["source_etag"]) == newer_v(newer)
    assert not Path(staging_path(str(tmp_path), "v1run")).exists()


def newer_v(version: SourceVersion) -> tuple:
    return version.version_id, version.sequencer, version.etag


def test_without_sequencers_the_version_the_bucket_holds_now_decides():
    mine = SourceVersion("v1")
    assert newer_version({}, mine, lambda: "v1") is None
    assert newer_version({}, mine, lambda: "v2") == "v2"
    assert newer_version({"sequencer": "05"}, SourceVersion("v3", "06"), lambda: "v9") is None
    assert newer_version({}, SourceVersion("v1", "01"), lambda: "v2") is None  # never published


def test_a_backfill_run_keeps_the_sequencer_of_the_version_it_republished(tmp_path):
    # GIVEN the upload v2 published with its sequencer
    store = LocalStorage()
    run_publish(store, tmp_path, "upload", SourceVersion("v2", "0A", "e2"), current="v2")
    # WHEN a backfill (no sequencer in its event) re-processes v2, then a late run of v1 comes
    run_publish(store, tmp_path, "backfill", SourceVersion("v2", None, "e2"), current="v2")
    late = run_publish(store, tmp_path, "late", SourceVersion("v1", "09", "e1"), current="v2")
    # THEN the record still orders uploads, and the late run is superseded
    assert read_record(store, str(tmp_path), KEY)["sequencer"] == "0A"
    assert late.superseded_by == "v2"


def test_commit_records_are_named_by_the_source_key_and_legacy_ones_are_read(tmp_path):
    store = LocalStorage()
    legacy = tmp_path / "_commits" / "travel_times" / f"{key_hash(KEY)}.json"
    legacy.parent.mkdir(parents=True)
    legacy.write_text(json.dumps({"run_id": "old", "files": []}))
    assert read_record(store, str(tmp_path), KEY)["run_id"] == "old"
    run_publish(store, tmp_path, "new", SourceVersion("v1", "01", "e"))
    assert (tmp_path / commit_record_key(KEY)).exists()
    assert read_record(store, str(tmp_path), KEY)["run_id"] == "new"


def test_local_versions_are_kept_so_a_run_reads_the_one_its_event_named(tmp_path):
    # GIVEN v1 landed (kept), then the key was replaced by v2
    raw = tmp_path / "raw" / KEY
    raw.parent.mkdir(parents=True)
    raw.write_text("version one\n")
    _, v1 = keep_version(raw)
    replacement = raw.with_name("incoming")
    replacement.write_text("version two, longer\n")
    replacement.replace(raw)
    store = LocalStorage()
    # WHEN a run pins v1 THEN it gets v1's bytes; the current one is v2
    target = str(tmp_path / "pinned.csv")
    assert store.pin_version(str(raw), v1, target) == v1
    assert Path(target).read_text() == "version one\n"
    assert store.current_version(str(raw)) == local_version_id(raw) != v1
