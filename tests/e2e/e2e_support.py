"""Helpers of the end-to-end tests: run the `lake` CLI in-process (so the test session's warm
SparkSession is reused) and read its JSON output."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from contract.values import parse_date_range
from lake.ui import cli
from lake.ui.generate import generate


def lake(capsys, *args: str) -> tuple[int, str, str]:
    """`lake ARGS...` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def lake_json(capsys, *args: str):
    status, out, err = lake(capsys, *args, "--json")
    assert status == 0, err
    return json.loads(out)


def query(capsys, sql: str) -> list[dict]:
    status, out, err = lake(capsys, "query", sql, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def export(path: Path, rows: int = 200, seed: int = 1, **options) -> Path:
    """A generated travel-times export (few zones, a few date ranges: small and quick)."""
    generate(
        path, rows=rows, seed=seed, zones=40, date_ranges=options.pop("date_ranges", 3), **options
    )
    return path


def expected_partitions(path: Path, city: str) -> set[str]:
    """`city=../year=../month=../day=..` of every start date in a generated export."""
    with path.open(encoding="utf-8") as f:
        starts = {parse_date_range(row["Date Range"]).start_date for row in csv.DictReader(f)}
    return {f"city={city}/year={d.year}/month={d.month}/day={d.day}" for d in starts}
