"""`lake upload` end to end: the real ASL file, validator, Glue script and Athena SQL."""

from __future__ import annotations

import pytest
from e2e_support import expected_partitions, export, lake, lake_json, query

pytestmark = pytest.mark.e2e


def test_an_uploaded_export_becomes_queryable_with_its_rows_and_partitions(
    lake_home, capsys, tmp_path
):
    # GIVEN a generated export of 300 rows
    source = export(tmp_path / "2019-q1.csv", rows=300)
    # WHEN it is uploaded
    status, out, err = lake(capsys, "upload", str(source), "--city", "bogota")
    # THEN the workflow succeeds, state by state
    assert status == 0, err
    for state in ("Validate", "Transform", "ReadManifest", "RegisterPartitions"):
        assert state in err
    assert "is in the lake" in out
    # AND the table holds its rows, in the partitions of its start dates
    key = "travel_times/bogota/2019-q1.csv"
    [row] = query(capsys, f"SELECT count(*) AS n FROM travel_times WHERE source_key = '{key}'")
    assert row["n"] == 300
    partitions = {p["partition"] for p in query(capsys, "SHOW PARTITIONS travel_times")}
    assert partitions == expected_partitions(source, "bogota")
    # AND the execution is listed as SUCCEEDED with its summary
    [execution] = lake_json(capsys, "executions")
    assert (execution["status"], execution["sourceKey"]) == ("SUCCEEDED", key)
    described = lake_json(capsys, "describe", execution["name"])
    assert described["counts"]["rows_written"] == 300


def test_rerunning_a_successful_execution_leaves_the_table_unchanged(lake_home, capsys, tmp_path):
    # GIVEN an export in the lake
    source = export(tmp_path / "2019-q2.csv", rows=250, seed=7)
    assert lake(capsys, "upload", str(source), "--city", "lima")[0] == 0
    snapshot_sql = (
        "SELECT origin_movement_id, destination_movement_id, date_range, mean_travel_time_s, "
        "source_key, city, year, month, day FROM travel_times "
        "ORDER BY origin_movement_id, destination_movement_id, date_range, mean_travel_time_s"
    )
    before = query(capsys, snapshot_sql)
    [first] = lake_json(capsys, "executions")
    # WHEN the execution is re-run (a new execution with the same input)
    status, _, err = lake(capsys, "rerun", first["name"])
    # THEN it succeeds and the table holds exactly the same rows: no duplicates
    assert status == 0, err
    assert query(capsys, snapshot_sql) == before
    assert len(before) == 250
    executions = lake_json(capsys, "executions")
    assert [e["status"] for e in executions] == ["SUCCEEDED", "SUCCEEDED"]
    assert executions[0]["rerunOf"] == first["executionArn"]
    # AND a succeeded execution cannot be redriven: AWS's reason, exit status 1
    status, _, err = lake(capsys, "redrive", first["name"])
    assert status == 1
    assert "SUCCEEDED and cannot be redriven" in err
