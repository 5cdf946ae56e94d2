"""Hostile files end to end, one after the other on the same warm engine: each is rejected as
the file's fault (the alert says to fix the file, never to redrive), nothing of it reaches the
table, and the next valid file goes through."""

from __future__ import annotations

import gzip

import pytest
from e2e_support import export, lake, query

import settings
from lake.aws.sns import read_outbox

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def members(*parts: bytes, repeat_last: int = 1) -> bytes:
    """A multi-member gzip file (as `cat a.gz b.gz` makes), built cheaply however large it
    inflates: the repeated member is compressed once."""
    *head, last = [gzip.compress(part, 9) for part in parts]
    return b"".join(head) + last * repeat_last


@pytest.fixture
def bounded_inflation(monkeypatch):
    """The lake's configurable bound on a .csv.gz's inflated size, at 512 MiB for this test."""
    context = settings.cdk_json_context()
    monkeypatch.setattr(
        settings, "cdk_json_context", lambda: {**context, "maxInflatedBytes": 512 * MiB}
    )


def test_hostile_files_are_rejected_and_the_warm_engine_serves_the_next_file(
    lake_home, capsys, tmp_path, bounded_inflation
):
    head = export(tmp_path / "head.csv", rows=3).read_bytes()
    # 1,200 valid rows: past the 1,000 the validator samples
    valid = export(tmp_path / "valid.csv", rows=1_200, seed=2).read_bytes()
    row = head.splitlines(keepends=True)[1]
    hostile = {
        # 1 GiB of valid rows in a few MiB: the validator's head looks fine; the job stops
        # inflating at the bound, before any parsing
        "bomb.csv.gz": (
            members(head, row * (MiB // len(row)), repeat_last=1024),
            "InflatesTooLarge",
        ),
        # The reproduction: a 255 KiB .csv.gz whose fourth row has a 256 MiB field
        "field.csv.gz": (members(head + b'1,"', b"y" * MiB, repeat_last=256), "FieldTooLarge"),
        # 25,008 columns in the header: the validator sees it in the head of the file
        "wide.csv": (",".join(f"c{i}" for i in range(25_008)).encode() + b"\n", "TooManyColumns"),
        # A valid head, then a row of 25,000 fields that only the whole-file parse meets
        "wide-row.csv": (valid + b",".join([b"7"] * 25_000) + b"\n", "TooManyColumns"),
    }
    for name, (data, fault) in hostile.items():
        source = tmp_path / name
        source.write_bytes(data)
        # WHEN each is uploaded
        status, out, _ = lake(capsys, "upload", str(source), "--key", f"travel_times/bogota/{name}")
        # THEN it fails as the file's fault, saying to fix the file and never to redrive
        assert status == 1, out
        assert fault in out and "upload it again" in out and "lake redrive" not in out, out
    # AND every alert says to fix the file, none to redrive
    alerts = read_outbox(lake_home)
    assert len(alerts) == len(hostile)
    for alert in alerts:
        assert "upload it again" in alert["body"] and "redrive" not in alert["body"].lower()
    # AND nothing of them reached the table; WHEN a valid file comes next THEN it goes through
    good = export(tmp_path / "good.csv", rows=150, seed=5)
    status, out, err = lake(capsys, "upload", str(good), "--city", "bogota")
    assert status == 0, out + err
    [row] = query(capsys, "SELECT count(*) AS n, count(DISTINCT source_key) AS k FROM travel_times")
    assert (row["n"], row["k"]) == (150, 1)
