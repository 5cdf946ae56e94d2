"""A lake made by the previous version (its table without `travel_distance_m` and
`source_format`) is upgraded in place on first use: the catalog gains the columns, the old files
read them as null, and nothing is rewritten."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from e2e_support import lake, query
from export_rows import FIXTURES

from contract.columns import DATA_COLUMNS
from contract.table import create_table_sql, register_partitions_sql
from lake.runtime.engine import table_location

pytestmark = pytest.mark.e2e

NEW = ("travel_distance_m", "source_format")
OLD_COLUMNS = tuple(col for col in DATA_COLUMNS if col.name not in NEW)


def _old_lake(spark, home) -> object:
    """The table as the previous version made it, with one of its Parquet files in place."""
    s = home.settings
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{s.database}`")
    spark.sql(create_table_sql(s.database, s.table, table_location(home), OLD_COLUMNS))
    folder = home.bucket_path(s.curated_bucket) / "travel_times/city=bogota/year=2019/month=6/day=1"
    folder.mkdir(parents=True)
    old = folder / "0123456789abcdef-run-0.snappy.parquet"
    pq.write_table(
        pa.table(
            {
                "origin_movement_id": [1],
                "origin_display_name": ["Chapinero"],
                "destination_movement_id": [2],
                "destination_display_name": ["Usaquén"],
                "date_range": ["6/1/2019 - 6/30/2019, Weekdays, Daily Average"],
                "start_date": [dt.date(2019, 6, 1)],
                "end_date": [dt.date(2019, 6, 30)],
                "day_type": ["Weekdays"],
                "time_of_day": ["Daily Average"],
                "mean_travel_time_s": [1200.0],
                "lower_bound_travel_time_s": [900.0],
                "upper_bound_travel_time_s": [1500.0],
                "source_key": ["travel_times/bogota/old.csv"],
                "ingested_at": pa.array([dt.datetime(2024, 1, 1)], pa.timestamp("us")),
            }
        ),
        old,
        compression="snappy",
    )
    spark.sql(
        register_partitions_sql(
            s.database, s.table, [{"city": "bogota", "year": 2019, "month": 6, "day": 1}]
        )
    )
    return old


def test_a_lake_of_the_previous_version_gains_the_new_columns_in_place(spark, lake_home, capsys):
    # GIVEN a lake as the previous version left it
    old = _old_lake(spark, lake_home)
    before = (old.stat().st_mtime_ns, old.read_bytes())
    columns = [c.name for c in spark.catalog.listColumns("uber_movement.travel_times")]
    assert not set(NEW) & set(columns)
    # WHEN the runtime uses it (a new upload)
    status, _, err = lake(
        capsys, "upload", str(FIXTURES / "movement_unquoted_distance.csv"), "--city", "boston"
    )
    assert status == 0, err
    # THEN the catalog has the new columns, the old file reads them as null, untouched
    columns = [c.name for c in spark.catalog.listColumns("uber_movement.travel_times")]
    assert columns[: len(DATA_COLUMNS)] == [col.name for col in DATA_COLUMNS]
    rows = query(
        capsys,
        "SELECT city, source_format, travel_distance_m, mean_travel_time_s FROM travel_times "
        "ORDER BY city, mean_travel_time_s",
    )
    old_rows = [r for r in rows if r["city"] == "bogota"]
    assert old_rows == [
        {
            "city": "bogota",
            "source_format": None,
            "travel_distance_m": None,
            "mean_travel_time_s": 1200.0,
        }
    ]
    new_rows = [r for r in rows if r["city"] == "boston"]
    assert len(new_rows) == 4
    assert {r["source_format"] for r in new_rows} == {"movement_travel_times"}
    assert (old.stat().st_mtime_ns, old.read_bytes()) == before  # nothing rewritten
