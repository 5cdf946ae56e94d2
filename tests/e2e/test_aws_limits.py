"""AWS's limits designed in, end to end: a daily export of ten years touches 3,650 partitions, yet
every state's data stays far below Step Functions' 256 KiB (the local interpreter fails a run
past it, as AWS does) and every registration statement below Athena's query-length limit."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from e2e_support import lake, lake_json, query

from contract import formats as f
from contract.limits import ATHENA_QUERY_BYTES, STATE_PAYLOAD_BYTES

pytestmark = pytest.mark.e2e

DAYS = 3_650  # ten years: well past the 1,461 days whose manifest broke Step Functions
# A long city name (as data.world names them) makes each partition clause longer: several
# registration statements. (About 4 minutes here: each partition is written, then registered in
# the local Derby metastore; the issue asks for this size.)
CITY = "johannesburg_and_pretoria"


def long_daily_export(path) -> None:
    """One pair of zones, one row a day: only the Daily period measured."""
    first = dt.date(2010, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(f.DAILY.required_headers)
        for n in range(DAYS):
            day = first + dt.timedelta(days=n)
            date = f"{day.month}/{day.day}/{day.year}"
            periods = ["1200", "900", "1500"] + [""] * 15
            writer.writerow([date, "101", "Centro", "202", "Norte", *periods])


def test_a_3650_day_daily_file_registers_every_partition_within_the_aws_limits(
    lake_home, capsys, tmp_path
):
    # GIVEN a daily export of 3,650 days
    source = tmp_path / "daily.csv"
    long_daily_export(source)
    # WHEN it is uploaded
    status, out, err = lake(capsys, "upload", str(source), "--city", CITY)
    # THEN the run succeeds and every day is a registered partition of the table
    assert status == 0, out + err
    [row] = query(
        capsys, "SELECT count(*) AS n, count(DISTINCT start_date) AS days FROM travel_times"
    )
    assert (row["n"], row["days"]) == (DAYS, DAYS)
    [execution] = lake_json(capsys, "executions")
    assert len(query(capsys, "SHOW PARTITIONS travel_times")) == DAYS
    # AND no state's input or output came near 256 KiB: the workflow carried a summary
    history = lake_json(capsys, "history", execution["name"])
    sizes = [
        len(details[field].encode())
        for event in history
        for key, details in event.items()
        if key.endswith("EventDetails") and isinstance(details, dict)
        for field in ("input", "output")
        if isinstance(details.get(field), str)
    ]
    assert max(sizes) < STATE_PAYLOAD_BYTES // 2  # at most one statement of 96 KiB
    # AND the registration statements each stay under Athena's query-length limit
    manifest_folder = lake_home.bucket_path(lake_home.settings.curated_bucket) / "manifests"
    statements = sorted(manifest_folder.glob(f"{execution['name']}/register-*.sql"))
    assert len(statements) > 1
    assert all(len(s.read_bytes()) < ATHENA_QUERY_BYTES for s in statements)
    summary = json.loads((manifest_folder / execution["name"] / "summary.json").read_text())
    assert summary["partitions_written"] == DAYS
