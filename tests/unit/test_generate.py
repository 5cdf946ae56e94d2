"""`lake generate`: realistic, deterministic exports with an exact share of bad rows."""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter

from contract import columns as c
from contract.values import reject_reason, resolve_header
from lake.ui.generate import generate


def _rows(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _reasons(rows):
    header, *data = rows
    positions = resolve_header(header)
    reasons = Counter()
    for fields in data:
        if len(fields) != len(header):
            reasons[c.MALFORMED_ROW] += 1
            continue
        reason = reject_reason({name: fields[i] for name, i in positions.items()})
        if reason:
            reasons[reason] += 1
    return reasons


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path):
    a = generate(tmp_path / "a.csv", rows=300, seed=7)
    b = generate(tmp_path / "b.csv", rows=300, seed=7)
    other = generate(tmp_path / "c.csv", rows=300, seed=8)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.path.read_bytes() != other.path.read_bytes()


def test_rows_look_like_an_uber_movement_export(tmp_path):
    stats = generate(tmp_path / "x.csv", rows=2000, seed=1, city="sao-paulo")
    header, *data = _rows(stats.path)
    assert header == list(c.SOURCE_COLUMNS)
    assert len(data) == 2000 and stats.bad == 0
    names = {row[1] for row in data} | {row[3] for row in data}
    assert any("," in n for n in names) and any('"' in n for n in names)
    assert any(any(ord(ch) > 127 for ch in n) for n in names)
    assert len({row[4] for row in data}) > 3  # several date ranges
    for row in data:
        mean, low, high = (float(v) if v else None for v in row[5:8])
        assert (low is None or low <= mean) and (high is None or mean <= high)


def test_bad_rows_break_exactly_the_rule_asked_for_in_exact_numbers(tmp_path):
    stats = generate(tmp_path / "bad.csv", rows=1000, seed=3, bad_share=0.1)
    assert stats.bad == 100
    assert set(stats.bad_rows) == set(c.REJECT_REASONS)
    assert _reasons(_rows(stats.path)) == Counter(stats.bad_rows)


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
