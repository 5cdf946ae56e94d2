"""`lake generate`: realistic, deterministic exports of every accepted format, with exact numbers
of bad rows, rows without a measurement and exact duplicates, as the contract counts them."""

from __future__ import annotations

import csv
import gzip
import io

import pytest
from export_rows import expected

from contract import columns as c
from contract import formats
from lake.ui.generate import FORMATS, generate


def _rows(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path):
    a = generate(tmp_path / "a.csv", rows=300, seed=7)
    b = generate(tmp_path / "b.csv", rows=300, seed=7)
    other = generate(tmp_path / "c.csv", rows=300, seed=8)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != other.path.read_bytes()


def test_rows_look_like_an_uber_movement_export(tmp_path):
    stats = generate(tmp_path / "x.csv", rows=2000, seed=1, city="sao-paulo")
    header, *data = _rows(stats.path)
    assert header == formats.TRAVEL_TIMES.required_headers
    assert len(data) == 2000 and stats.bad == 0
    names = {row[1] for row in data} | {row[3] for row in data}
    assert any("," in n for n in names) and any('"' in n for n in names)
    assert any(any(ord(ch) > 127 for ch in n) for n in names)
    assert len({row[4] for row in data}) > 3  # several date ranges
    for row in data:
        mean, low, high = (float(v) if v else None for v in row[5:8])
        assert (low is None or low <= mean) and (high is None or mean <= high)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_is_written_as_declared_and_counted_as_the_contract_counts(tmp_path, name):
    # GIVEN an export of that format with bad rows, empty means and exact duplicates
    stats = generate(
        tmp_path / f"{name}.csv",
        rows=1500,
        seed=11,
        export_format=name,
        bad_share=0.06,
        empty_means=0.1,
        duplicates=0.03,
        geometry=True,
    )
    # WHEN the contract's own Python rules read it
    got = expected(stats.path)
    # THEN the format is recognised and every count is what the generator says it wrote
    assert got.format == FORMATS[name].name == stats.export_format
    assert got.read == 1500 and got.duplicate_rows == stats.duplicate_rows > 0
    assert {r: n for r, n in got.verdicts.items() if r in c.REJECT_REASONS} == {
        r: n for r, n in stats.bad_rows.items() if n
    }
    assert set(stats.bad_rows) == set(c.REJECT_REASONS)
    assert got.verdicts[c.NO_MEASUREMENT] == stats.no_measurement > 0
    assert got.written == stats.written > 0


def test_the_daily_export_leaves_periods_without_a_measurement_by_default(tmp_path):
    stats = generate(tmp_path / "daily.csv", rows=200, seed=3, export_format="daily")
    header, *data = _rows(stats.path)
    assert header[0] == "Date" and len(header) == 5 + 3 * 6
    assert stats.no_measurement > 0 and stats.logical_rows == 6 * 200
    assert any(row[5:8] == ["", "", ""] for row in data)


def test_gzip_bom_crlf_and_geometry_options(tmp_path):
    stats = generate(tmp_path / "x.csv.gz", rows=50, seed=2, bom=True, crlf=True, geometry=True)
    raw = gzip.decompress(stats.path.read_bytes())
    assert raw.startswith("\ufeff".encode())
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert "Origin Geometry" in header and "Destination Geometry" in header
    assert len(_rows(stats.path)) == 51


def test_daily_date_ranges_give_one_single_day_range_per_day(tmp_path):
    stats = generate(tmp_path / "daily.csv", rows=5000, seed=4, date_ranges="daily")
    ranges = {row[4] for row in _rows(stats.path)[1:]}
    assert len(ranges) == 365
    first_days = {r.split(" - ")[0] for r in ranges}
    assert len(first_days) == 365
