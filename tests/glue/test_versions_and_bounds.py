"""The job reads the version its event names and publishes only the latest upload; files past
the contract's bounds (a gzip bomb, a field or a row too large, found only deep in the file)
are the file's rejection, with nothing written and nothing left in staging."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from job_support import Lake

from contract.errors import FieldTooLarge, InflatesTooLarge, TooManyColumns
from contract.formats import MOVEMENT_COLUMNS
from contract.limits import MAX_COLUMNS, MAX_FIELD_CHARS
from glue.object_store import keep_version
from lake.aws.events import local_sequencer

pytestmark = pytest.mark.spark

KEY = "travel_times/bogota/2019-q2.csv"


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path)


def upload(lake: Lake, key: str, rows: int, seed: int) -> tuple[str, str]:
    """Write a new version of `key` as an upload does (whole, by rename) and keep it as the
    local runtime's landing does: its event's `detail.object` as JSON, and the written rows."""
    path, _ = lake.export(key + ".incoming", rows=rows, seed=seed)
    target = path.with_name(Path(key).name)
    os.replace(path, target)
    kept, version = keep_version(target)
    event = {
        "key": key,
        "version-id": version,
        "sequencer": local_sequencer(kept.stat().st_mtime_ns),
    }
    return json.dumps(event), str(target)


def test_each_run_reads_its_own_version_and_a_late_run_of_an_older_upload_changes_nothing(
    spark, lake
):
    # GIVEN v1 uploaded, then v2 uploaded to the same key before v1's run began
    v1, path = upload(lake, KEY, rows=40, seed=1)
    v2, _ = upload(lake, KEY, rows=70, seed=2)
    # WHEN v1's run runs THEN it reads v1, not what the key holds now
    first = lake.run(spark, KEY, Path(path), source_object=v1)
    assert first["rows"]["read"] == 40 and len(lake.rows_of(KEY)) == first["rows"]["written"]
    # WHEN v2's run runs THEN v2 replaces it
    second = lake.run(spark, KEY, Path(path), source_object=v2)
    assert second["rows"]["read"] == 70
    v2_rows = lake.rows_of(KEY)
    assert len(v2_rows) == second["rows"]["written"]
    # WHEN v1's run is repeated (a redrive, a duplicate event) after v2 was published
    late = lake.run(spark, KEY, Path(path), source_object=v1)
    # THEN it publishes nothing, says so, succeeds, and the table still holds v2
    v2_version = json.loads(v2)["version-id"]
    assert late["superseded_by"] == late["summary"]["superseded_by"] == v2_version
    assert late["summary"]["register_statements"] == [] and late["table_files"] == 0
    assert lake.rows_of(KEY) == v2_rows
    assert not list((lake.curated / "_staging").glob("*/*"))


def _members(*parts: bytes, repeat_last: int = 1) -> bytes:
    """A multi-member gzip file (as `cat a.gz b.gz` makes): cheap to build however large it
    inflates, since the repeated member is compressed once."""
    *head, last = [gzip.compress(part, 9) for part in parts]
    return b"".join(head) + last * repeat_last


def test_a_gzip_bomb_is_rejected_after_inflating_at_most_the_bound(spark, lake):
    # GIVEN a 100 KiB .csv.gz that inflates to 1 GiB, and a bound of 8 MiB
    path = lake.root / "raw" / (KEY + ".gz")
    path.parent.mkdir(parents=True)
    header = (",".join(MOVEMENT_COLUMNS) + "\n").encode()
    path.write_bytes(_members(header, b"0" * (1 << 20), repeat_last=1024))
    assert path.stat().st_size < 2 * 1024 * 1024
    # WHEN the job runs THEN the file is rejected, saying what to do, and nothing is written
    with pytest.raises(InflatesTooLarge, match="Fix the file and upload it again"):
        lake.run(spark, KEY + ".gz", path, max_inflated_bytes=8 * 1024 * 1024)
    assert lake.rows_of(KEY + ".gz") == []
    assert not list((lake.curated / "_staging").glob("*/*"))


def test_a_field_past_the_bound_deep_in_a_gzip_file_is_the_files_rejection(spark, lake):
    # GIVEN a small .csv.gz whose third row has a 16 MiB field (the validator saw only its head)
    path = lake.root / "raw" / (KEY + ".gz")
    path.parent.mkdir(parents=True)
    good, _ = lake.export("travel_times/bogota/good.csv", rows=2, seed=3)
    start = good.read_bytes() + b'1,"'
    path.write_bytes(_members(start, b"y" * (1 << 20), repeat_last=16))
    # WHEN the job runs THEN the parser's bound is the file's fault, not a crash
    with pytest.raises(FieldTooLarge, match=f"longer than {MAX_FIELD_CHARS:,} characters"):
        lake.run(spark, KEY + ".gz", path)
    assert not list((lake.curated / "_staging").glob("*/*"))


def test_a_row_wider_than_the_bound_is_the_files_rejection(spark, lake):
    # GIVEN a file with a good header and rows, then one row of 25,000 fields
    path, _ = lake.export(KEY, rows=5, seed=4)
    with path.open("a") as f:
        f.write(",".join(["7"] * 25_000) + "\n")
    # WHEN the job runs THEN it is rejected as too wide
    with pytest.raises(TooManyColumns, match=f"more than {MAX_COLUMNS:,} fields"):
        lake.run(spark, KEY, path)
    assert lake.rows_of(KEY) == []
