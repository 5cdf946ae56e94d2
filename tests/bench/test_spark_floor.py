"""Spark's floor (bench.spark_copy) writes what DuckDB's COPY writes, so that the report's
comparison of the two measures the engines and not different work."""

from __future__ import annotations

import duckdb
import pytest

from bench import spark_copy
from bench.duckdb_copy import copy_sql
from lake.ui.generate import generate

pytestmark = pytest.mark.spark

COMPARED = """
    origin_movement_id, origin_display_name, destination_movement_id, destination_display_name,
    date_range, start_date, end_date, day_type, time_of_day, mean_travel_time_s,
    lower_bound_travel_time_s, upper_bound_travel_time_s, source_key, city, year, month, day
"""


def _rows(folder) -> list[tuple]:
    query = f"""
        SELECT {COMPARED} FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true)
        ORDER BY ALL
    """
    return duckdb.sql(query).fetchall()


def test_sparks_floor_writes_the_rows_duckdbs_copy_writes(spark, tmp_path):
    # GIVEN a generated export with quoted names, several date ranges and empty bounds
    source = tmp_path / "export.csv"
    generate(source, rows=500, seed=3, empty_means=0.0)
    key = "travel_times/bench-city/export.csv"

    # WHEN both peers copy it to partitioned Parquet
    duckdb.connect().execute(copy_sql(str(source), str(tmp_path / "duckdb"), "bench-city", key))
    written = spark_copy.copy(spark, str(source), str(tmp_path / "spark"), "bench-city", key)

    # THEN Spark wrote every row, and the same rows, columns and partitions as DuckDB
    duck = _rows(tmp_path / "duckdb")
    assert written == len(duck) == 500
    assert _rows(tmp_path / "spark") == duck
