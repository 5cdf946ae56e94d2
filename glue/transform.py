"""Check and cast export rows per the data contract: pure DataFrame functions, no Python UDFs.

Every rule comes from `contract` (patterns, whitespace, reason order), so a row gets here the
very reason `contract.values.reject_reason` gives it in Python. Checks and casts are computed in
one projection (`classify`), which the table rows, the rejects and the counts all derive from."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from contract import columns as c
from contract import values as v
from glue import date_range as dr
from glue.partition import PARTITION_NAMES
from glue.read import CORRUPT_RECORD

REJECT_REASON = "reject_reason"
SOURCE_ROW = "source_row"  # 1 = the first data row under the header
RAW_RECORD = "raw_record"  # the row's text, for rows Spark could not split into the columns
TABLE_COLUMNS: tuple[str, ...] = tuple(col.name for col in c.DATA_COLUMNS)
_SPARK_TYPES: dict[str, DataType] = {
    "bigint": LongType(),
    "int": IntegerType(),
    "string": StringType(),
    "date": DateType(),
    "double": DoubleType(),
    "timestamp": TimestampType(),
}
# The table as Spark reads it back: the contract's columns, then the partition columns.
TABLE_SCHEMA = StructType(
    [StructField(col.name, _SPARK_TYPES[col.athena_type]) for col in c.DATA_COLUMNS]
    + [StructField(col.name, _SPARK_TYPES[col.athena_type]) for col in c.PARTITION_COLUMNS]
)
# Within a partition, rows sorted like this put equal values next to each other for Parquet.
SORT_COLUMNS = ("date_range", "origin_movement_id", "destination_movement_id")
NUMBER_COLUMNS = (*c.MOVEMENT_ID_COLUMNS, *c.TRAVEL_TIME_COLUMNS)


def _raw(name: str) -> Column:
    return F.col(f"`{name}`")


# Code points of the whitespace above U+0020 (at or below it, only control characters).
_WIDE_WHITESPACE = sorted(ord(ch) for ch in v.WHITESPACE if ord(ch) > 32)


def _starts_with_non_space(value: Column) -> Column:
    """True when the first character is surely not whitespace (so the value is not blank)."""
    first = F.ascii(value)  # code point of the first character; 0 for ""
    return F.coalesce((first > 32) & ~first.isin(_WIDE_WHITESPACE), F.lit(False))


def _strip(value: Column) -> Column:
    """`value.strip()` as Python does it (trimming a set of characters is slow in Spark: it is
    only reached for values the fast checks below cannot decide)."""
    return F.btrim(value, F.lit(v.WHITESPACE))


def _plain_integer(value: Column) -> Column:
    """True when the value is written exactly as its integer is (digits, no sign, no leading
    zero, no space): it then matches the contract's number patterns, stripped or not."""
    number = value.cast("bigint")
    return F.coalesce((number.cast("string") == value) & (number >= 0), F.lit(False))


def _all(conditions: list[Column]) -> Column:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result & condition
    return result


def _any(conditions: list[Column]) -> Column:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result | condition
    return result


def distributed_by_start_date(rows: DataFrame) -> DataFrame:
    """Number the raw export rows (`source_row`), keep only the contract's columns, and spread
    them over tasks so that all rows with the same START date share one.

    The file is parsed by one task (multiLine); the checks are the costly part, so they run
    after this shuffle, on every core. The key is the start date's numbers, cut out without a
    regex: for a valid Date Range these are the day's month, day and year however padded, so
    each table partition is written by one task (one file), and no second shuffle is needed.

    `source_row` relies on the file being one Spark partition read in order: then
    monotonically_increasing_id is the row's position."""
    start = F.substring_index(_raw(c.DATE_RANGE), "-", 1)  # "[ \t]*M/D/YYYY[ \t]*" if valid
    start_numbers = [
        F.substring_index(F.substring_index(start, "/", i), "/", -1).cast("int") for i in (1, 2, 3)
    ]
    return rows.select(
        *(_raw(name) for name in c.SOURCE_COLUMNS),
        CORRUPT_RECORD,
        (F.monotonically_increasing_id() + 1).alias(SOURCE_ROW),
    ).repartition(*start_numbers)


def classify(rows: DataFrame) -> DataFrame:
    """Add to export rows (as `distributed_by_start_date` gives them) the table's typed values
    and `reject_reason` (null for a valid row).

    The Date Range is parsed first (`with_date_range`, its own projections), then the checks and
    casts are one projection, in which Spark computes a value used twice once. Typed values are
    only meaningful for valid rows; rejects keep the raw text."""
    kept = [F.col(f"`{name}`") for name in rows.columns]
    rows = dr.with_date_range(rows, c.DATE_RANGE)
    # Most values are plain integers: they need neither stripping nor a regex. Spark evaluates
    # the other branch of a `when` (and the right side of `|`, `&`) only when it is needed.
    plain = {name: _plain_integer(_raw(name)) for name in NUMBER_COLUMNS}

    def number(name: str, type_: str) -> Column:
        return F.when(plain[name], _raw(name).cast(type_)).otherwise(_strip(_raw(name)).cast(type_))

    def matches(name: str, pattern: str) -> Column:
        return plain[name] | F.coalesce(_strip(_raw(name)).rlike(pattern), F.lit(False))

    def blank(name: str) -> Column:
        return ~_starts_with_non_space(_raw(name)) & F.coalesce(
            _strip(_raw(name)) == "", F.lit(True)
        )

    typed = {
        "origin_movement_id": number(c.ORIGIN_ID, "bigint"),
        "origin_display_name": _raw(c.ORIGIN_NAME),
        "destination_movement_id": number(c.DESTINATION_ID, "bigint"),
        "destination_display_name": _raw(c.DESTINATION_NAME),
        "date_range": _raw(c.DATE_RANGE),
        "start_date": F.col(dr.START_DATE),
        "end_date": F.col(dr.END_DATE),
        "day_type": F.col(dr.DAY_TYPE),
        "time_of_day": F.col(dr.TIME_OF_DAY),
        "mean_travel_time_s": number(c.MEAN_TRAVEL_TIME, "double"),
        "lower_bound_travel_time_s": number(c.LOWER_TRAVEL_TIME, "double"),
        "upper_bound_travel_time_s": number(c.UPPER_TRAVEL_TIME, "double"),
    }

    ids_valid = [
        F.coalesce(typed[column] > 0, F.lit(False)) & matches(name, v.MOVEMENT_ID_PATTERN)
        for name, column in (
            (c.ORIGIN_ID, "origin_movement_id"),
            (c.DESTINATION_ID, "destination_movement_id"),
        )
    ]
    times_valid = [
        # The mean is required (a blank one is already missing_field); bounds may be empty.
        matches(name, v.TRAVEL_TIME_PATTERN)
        | (blank(name) if name != c.MEAN_TRAVEL_TIME else F.lit(False))
        for name in c.TRAVEL_TIME_COLUMNS
    ]
    breaks = {
        c.MALFORMED_ROW: F.col(CORRUPT_RECORD).isNotNull(),
        c.MISSING_FIELD: _any([blank(name) for name in c.REQUIRED_VALUES]),
        c.BAD_MOVEMENT_ID: ~_all(ids_valid),
        c.BAD_DATE_RANGE: ~F.col(dr.VALID),
        c.BAD_TRAVEL_TIME: ~_all(times_valid),
    }
    # The first rule broken, in the contract's order. Not a CASE WHEN, which stops at the first
    # rule broken: Spark computes a part shared by several rules (the Date Range's pieces) once
    # only where it is evaluated unconditionally, and a pass that needs the reason alone (the
    # rejects) then re-evaluated those pieces over and over, six times slower than here.
    first_broken = F.least(*(F.when(breaks[name], i) for i, name in enumerate(c.REJECT_REASONS)))
    reason = F.element_at(F.array(*map(F.lit, c.REJECT_REASONS)), first_broken + 1)

    return rows.select(
        *kept,
        reason.alias(REJECT_REASON),
        *(value.alias(name) for name, value in typed.items()),
    )


def reason_counts(classified: DataFrame) -> list[Column]:
    """Aggregates for `DataFrame.observe`: rows read, and rows per reject reason."""
    reason = F.col(REJECT_REASON)
    return [
        F.count(F.lit(1)).alias("read"),
        *(F.count(F.when(reason == name, True)).alias(name) for name in c.REJECT_REASONS),
    ]


def table_rows(
    classified: DataFrame, source_key: str, city: str, ingested_at: dt.datetime
) -> DataFrame:
    """The valid rows as the table holds them: the contract's columns and types, then the
    partition columns (city from the key; year/month/day of the START date)."""
    return classified.where(F.col(REJECT_REASON).isNull()).select(
        *(F.col(name) for name in TABLE_COLUMNS if name not in ("source_key", "ingested_at")),
        F.lit(source_key).alias("source_key"),
        F.lit(ingested_at).cast("timestamp").alias("ingested_at"),
        F.lit(city).alias("city"),
        F.year("start_date").alias("year"),
        F.month("start_date").alias("month"),
        F.dayofmonth("start_date").alias("day"),
    )


def sorted_for_parquet(table: DataFrame) -> DataFrame:
    """Rows sorted within each task by partition (as the partitioned writer needs) and then so
    that equal values sit next to each other, which Parquet's encodings compress well."""
    return table.sortWithinPartitions(*PARTITION_NAMES, *SORT_COLUMNS)


def rejected_rows(classified: DataFrame) -> DataFrame:
    """The rows set aside, in file order: original values under their header names, then why
    and where (and the row's text when it could not be split into the columns)."""
    return (
        classified.where(F.col(REJECT_REASON).isNotNull())
        .select(
            *(_raw(name) for name in c.SOURCE_COLUMNS),
            F.col(REJECT_REASON),
            F.col(SOURCE_ROW),
            F.col(CORRUPT_RECORD).alias(RAW_RECORD),
        )
        .repartition(1)  # few rows: one CSV per run
        .sortWithinPartitions(SOURCE_ROW)
    )
