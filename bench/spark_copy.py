"""Spark's floor on a file: DuckDB's COPY (bench.duckdb_copy) done by Spark in the warm session,
as cheaply as Spark does it, so that the report can say how much of our distance to DuckDB is
the engine's and how much is the job's own work.

The same read as the job's split read (`glue.read.read_export`, line by line, every core), the
same columns and casts as DuckDB's COPY, partitions city/year/month/day from the start date,
Snappy. Cheaper than DuckDB's statement where Spark would be slow and the bench files do not need
it: the Date Range is cut at its separators instead of matched with the contract's pattern
(Spark's `regexp_extract` matches again for each of the eight groups), so a malformed value is
not caught. And none of the job's work: no line survey, no shuffle for one file per partition,
no duplicates dropped, no checks or rejects, no publish or manifest. Files with a line break
inside a quoted field would be read wrong; the bench's have none."""

from __future__ import annotations

from pyspark.sql import Column, Observation, SparkSession
from pyspark.sql import functions as F

from bench.inputs import header_names
from contract import columns as c
from contract.formats import MOVEMENT_COLUMNS
from glue.read import export_schema, read_export
from glue.rows import piece, source_column


def _date(text: Column) -> Column:
    """`M/D/YYYY` as a date (null when a piece is not a number or the day does not exist)."""
    month, day, year = (piece(text, "/", i).cast("int") for i in range(3))
    return F.make_date(year, month, day)


def copy(spark: SparkSession, source: str, out: str, city: str, source_key: str) -> int:
    """Write `source` as partitioned Parquet below `out`; the number of rows written."""
    names = header_names(source)
    field = {
        name: F.col(source_column(names.index(header))) for name, header in MOVEMENT_COLUMNS.items()
    }

    def number(name: str, type_: str) -> Column:
        return F.trim(field[name]).cast(type_)

    date_range = field[c.DATE_RANGE]
    dates = piece(date_range, ",", 0)
    rows = read_export(spark, source, export_schema(names), multi_line=False).select(
        number(c.ORIGIN_ID, "bigint").alias("origin_movement_id"),
        field[c.ORIGIN_NAME].alias("origin_display_name"),
        number(c.DESTINATION_ID, "bigint").alias("destination_movement_id"),
        field[c.DESTINATION_NAME].alias("destination_display_name"),
        date_range.alias("date_range"),
        _date(F.trim(piece(dates, "-", 0))).alias("start_date"),
        _date(F.trim(piece(dates, "-", 1))).alias("end_date"),
        F.trim(piece(date_range, ",", 1)).alias("day_type"),
        F.trim(piece(date_range, ",", 2)).alias("time_of_day"),
        number(c.MEAN_TRAVEL_TIME, "double").alias("mean_travel_time_s"),
        number(c.LOWER_TRAVEL_TIME, "double").alias("lower_bound_travel_time_s"),
        number(c.UPPER_TRAVEL_TIME, "double").alias("upper_bound_travel_time_s"),
        F.lit(source_key).alias("source_key"),
        F.current_timestamp().alias("ingested_at"),
    )
    written = Observation()
    (
        rows.where(F.col("start_date").isNotNull())
        .select(
            "*",
            F.lit(city).alias("city"),
            F.year("start_date").alias("year"),
            F.month("start_date").alias("month"),
            F.dayofmonth("start_date").alias("day"),
        )
        .observe(written, F.count(F.lit(1)).alias("rows"))
        .write.mode("overwrite")
        .partitionBy("city", "year", "month", "day")
        .option("compression", "snappy")
        .parquet(out)
    )
    return int(written.get["rows"])
