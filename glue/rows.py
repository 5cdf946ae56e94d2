"""One export's rows as the table holds them: read through the file's format declaration into
logical rows (`contract.formats`), exact duplicates dropped, checked and cast per the contract.
Pure DataFrame functions, no Python UDFs.

Every rule comes from `contract` (patterns, whitespace, reason order), so a row gets here the
very verdict `contract.values.reject_reason` gives it in Python. Checks and casts are computed in
one projection (`classify`), which the table rows, the rejects and the counts all derive from."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
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
from contract.formats import Recognised
from glue import date_range as dr
from glue import lines
from glue.built_once import per_context
from glue.lines import LineSurvey
from glue.partition import DATE_PARTITION_NAMES
from glue.stages import new_stage

REJECT_REASON = "reject_reason"  # a reject reason, `no_measurement`, or null for a valid row
SOURCE_ROW = "source_row"  # 1 = the first data row under the header
RAW_RECORD = "raw_record"  # the row's text, for rows Spark could not split into the columns
CORRUPT_RECORD = "_corrupt_record"  # Spark fills it with the text of a row it cannot split
# The start date's numbers (`start_key`): for a valid Date Range, its start date's year, month and
# day, the table partition's.
START_KEY = ("_start_year", "_start_month", "_start_day")
_NTH_EQUAL = "_nth_equal"  # 1 for the first (in file order) of rows equal in every column
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
# Within a partition, the rows are written in this order (`distributed_by_start_date`), which
# puts equal values next to each other for Parquet's encodings.
SORT_COLUMNS = ("origin_movement_id", "destination_movement_id", "date_range")


def source_column(position: int) -> str:
    """The name the reader gives the file's column at `position` (names are positional: a
    header may repeat a name, and the declaration says which position holds what)."""
    return f"_c{position}"


def numbered(raw: DataFrame, survey: LineSurvey | None = None) -> DataFrame:
    """The file's rows with `source_row`, their exact position in the file, for a read split as
    `survey` found (`glue.lines`; none: a multiLine read, one partition in file order)."""
    return lines.numbered(raw, survey or LineSurvey(splittable=False), SOURCE_ROW)


def piece(text: Column, separator: str, index: int) -> Column:
    """The `index`-th piece (from 0) of `text` cut at `separator` (its last piece when it has
    fewer), by a byte search: `split` takes a regex and runs it on a Java String."""
    before = F.substring_index(text, separator, index + 1)
    return before if index == 0 else F.substring_index(before, separator, -1)


def start_key(date_range: Column) -> list[Column]:
    """The `START_KEY` columns of a Date Range (or the daily export's Date): the numbers of its
    start date, cut out without a regex; for a valid value, its year, month and day."""
    start = piece(date_range, "-", 0)  # "[ \t]*M/D/YYYY[ \t]*" if valid
    return [
        piece(start, "/", i).cast("int").alias(name)
        for i, name in zip((2, 0, 1), START_KEY, strict=True)
    ]


def distributed_by_start_date(
    rows: DataFrame, recognised: Recognised, one_task: bool = False
) -> DataFrame:
    """The rows spread over tasks so that all rows with the same START date share one, exact
    duplicates dropped (the first one's `source_row` kept, however the file was split), each
    task's rows in the order the table's files are written in, with the `START_KEY` columns.

    The checks are the costly part: they run after this shuffle, on every core (a multiLine
    file is parsed by one task). The key is the start date's numbers (`start_key`), for a valid
    date its year, month and day, so each table partition is written by one task (one file).
    The duplicate rows share the key, so dropping them needs no second shuffle (the key is part
    of what is compared).

    Duplicates are dropped by sorting each task's rows (equal rows side by side, in file order)
    and keeping the first of each run of equal rows (`row_number`, which Spark plans as a
    streaming group limit). A hash aggregate (`groupBy` all columns, `min(source_row)`) did the
    same, but a date's rows of a big file do not fit in a task's share of the heap: it fell
    back to sorting after filling its hash map, and spilled both. Measured (Spark's task
    metrics, 10M rows, 1M per date, first run of a session): the stage after the shuffle went
    from 297 s to 222 s of task time, the run from 222 s to 176 s.

    That one sort is also the table's order: by the start key (the partition, which the writer
    needs its rows grouped by), then origin, destination and Date Range (`SORT_COLUMNS`, equal
    values side by side for Parquet), then the rest of the row. `table_rows` takes its year,
    month and day from the key, so Spark sees the rows already in the writer's order and sorts
    nothing more; a second sort for Parquet went (10M rows warm, one run each after a 1M one:
    174.1 s -> 149.8 s, 298 -> 263 CPU s in the tasks; the Parquet 1% larger). The ids are
    compared as numbers, which tell rows apart without comparing strings. Within equal rows,
    by `source_row`: which duplicate a task meets first depends on the order the shuffle
    delivers the splits.

    `one_task` (a small file, read by one task): the rows stay in that task, which then writes
    every partition's one file, with no shuffle. Spark plans no exchange for rows in one
    partition (`coalesce(1)`), and so no stage boundary and no adaptive re-planning either: a
    20k-row run waited 0.55 s between its two stages on an engine one run warm, 0.18 s when
    warm (Spark's event log), for a shuffle that had nothing to spread."""
    date_range = source_column(recognised.positions[c.DATE_RANGE])
    ids = [
        F.col(source_column(recognised.positions[name])).cast("bigint")
        for name in c.MOVEMENT_ID_COLUMNS
    ]
    rest = [name for name in rows.columns if name not in (date_range, SOURCE_ROW)]
    equal_rows = Window.partitionBy(*START_KEY, *ids, date_range, *rest).orderBy(SOURCE_ROW)
    keyed = rows.select("*", *start_key(F.col(date_range)))
    return (
        (keyed.coalesce(1) if one_task else keyed.repartition(*START_KEY))
        .select("*", F.row_number().over(equal_rows).alias(_NTH_EQUAL))
        .where(F.col(_NTH_EQUAL) == 1)
        .drop(_NTH_EQUAL)
    )


def logical_rows(rows: DataFrame, recognised: Recognised) -> DataFrame:
    """The file's rows as logical rows (`contract.columns` fields, text), through the format's
    declaration; the daily export's rows unpivoted into one row per period (a row Spark could
    not split stays one row, to be set aside as malformed). The corrupt record, `source_row` and
    `START_KEY` are kept where the rows have them."""
    fmt = recognised.format
    kept = [
        F.col(name) for name in (CORRUPT_RECORD, SOURCE_ROW, *START_KEY) if name in rows.columns
    ]
    fields = [
        F.col(source_column(position)).alias(name)
        for name, position in recognised.positions.items()
    ]
    if not fmt.periods:
        return rows.select(*fields, *kept)
    value_fields = (c.MEAN_TRAVEL_TIME, c.LOWER_TRAVEL_TIME, c.UPPER_TRAVEL_TIME)
    per_period = [
        F.struct(
            *(F.col(source_column(p[name])).alias(name) for name in value_fields),
            F.lit(period.name).alias(c.PERIOD),
        )
        for period, p in zip(fmt.periods, recognised.period_positions, strict=True)
    ]
    unsplit = F.struct(
        *(F.lit(None).cast("string").alias(name) for name in value_fields),
        F.lit(None).cast("string").alias(c.PERIOD),
    )
    periods = F.when(F.col(CORRUPT_RECORD).isNull(), F.array(*per_period)).otherwise(
        F.array(unsplit)
    )
    exploded = rows.select(*fields, *kept, F.explode(periods).alias("_period"))
    return exploded.select(
        *(F.col(name) for name in recognised.positions),
        *(F.col(f"_period.{name}").alias(name) for name in (*value_fields, c.PERIOD)),
        *kept,
    )


# Code points of the whitespace above U+0020 (at or below it, only control characters).
_WIDE_WHITESPACE = sorted(ord(ch) for ch in v.WHITESPACE if ord(ch) > 32)


def _starts_with_non_space(value: Column) -> Column:
    """True when the first character is surely not whitespace (so the value is not blank)."""
    first = F.ascii(value)  # code point of the first character; 0 for ""
    # An array literal parsed in one Py4J call: `isin` took about 100 calls per column.
    wide = F.expr(f"array({', '.join(map(str, _WIDE_WHITESPACE))})")
    return F.coalesce((first > 32) & ~F.array_contains(wide, first), F.lit(False))


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


def classify(rows: DataFrame, single_date: bool = False) -> DataFrame:
    """Add to logical rows the table's typed values and `reject_reason`: the contract's verdict
    (a reject reason, `no_measurement`, or null for a valid row).

    The dates and periods are parsed first (`with_periods`, its own projections), then the checks
    and casts are one projection, in which Spark computes a value used twice once, in a stage
    of generated code of their own (`glue.stages`). Typed values are only meaningful for valid
    rows; rejects keep the raw text."""
    columns = tuple(rows.columns)
    parsed = new_stage(dr.with_periods(rows, single_date))
    return parsed.select("*", *_number_forms(columns)).select(*_classified(columns))


_NUMBERS = (*c.MOVEMENT_ID_COLUMNS, *c.NUMBER_COLUMNS)
_PLAIN, _STRIPPED = "_plain_", "_stripped_"  # + a number's name: `_number_forms`' columns


@per_context
def _number_forms(columns: tuple[str, ...]) -> list[Column]:
    """For each number the rows have: whether it is a plain integer, and its text stripped when
    it is not. Computed once each, as columns, because the checks use them several times: an
    expression found in several checks is computed for every row before any of them (Spark's
    common subexpressions), whatever branch it sits in, so every number of every row was
    stripped of a 25-character set (about a fifth of the checks' CPU, Java Flight Recorder).
    Most values are plain integers: they need neither stripping nor a regex."""
    forms = []
    for name in (n for n in _NUMBERS if n in columns):
        plain = _plain_integer(F.col(name))
        forms += [
            plain.alias(_PLAIN + name),
            F.when(~plain, _strip(F.col(name))).alias(_STRIPPED + name),
        ]
    return forms


@per_context
def _classified(columns: tuple[str, ...]) -> list[Column]:
    """`classify`'s projection of rows with `columns` (after `with_periods` and
    `_number_forms`)."""
    kept = [F.col(f"`{name}`") for name in columns]
    present = set(columns)

    def raw(name: str) -> Column:
        return F.col(name) if name in present else F.lit(None).cast("string")

    # (`_number_forms`; a number the rows lack is null: not plain, nothing stripped)
    plain = {n: F.col(_PLAIN + n) if n in present else F.lit(False) for n in _NUMBERS}
    stripped = {n: F.col(_STRIPPED + n) if n in present else raw(n) for n in _NUMBERS}

    # Spark evaluates the other branch of a `when` (and the right side of `|`, `&`) only when
    # it is needed.
    def number(name: str, type_: str) -> Column:
        return F.when(plain[name], raw(name).cast(type_)).otherwise(stripped[name].cast(type_))

    def matches(name: str, pattern: str) -> Column:
        return plain[name] | F.coalesce(stripped[name].rlike(pattern), F.lit(False))

    def blank(name: str) -> Column:
        # (a plain integer starts with a digit: its stripped text, null, is never reached)
        text = stripped[name] if name in stripped else _strip(raw(name))
        return ~_starts_with_non_space(raw(name)) & F.coalesce(text == "", F.lit(True))

    typed = {
        "origin_movement_id": number(c.ORIGIN_ID, "bigint"),
        "origin_display_name": raw(c.ORIGIN_NAME),
        "destination_movement_id": number(c.DESTINATION_ID, "bigint"),
        "destination_display_name": raw(c.DESTINATION_NAME),
        # (the table's `date_range` is the logical field of the same name, kept as written)
        "start_date": F.col(dr.START_DATE),
        "end_date": F.col(dr.END_DATE),
        "day_type": F.col(dr.DAY_TYPE),
        "time_of_day": F.col(dr.TIME_OF_DAY),
        "mean_travel_time_s": number(c.MEAN_TRAVEL_TIME, "double"),
        "lower_bound_travel_time_s": number(c.LOWER_TRAVEL_TIME, "double"),
        "upper_bound_travel_time_s": number(c.UPPER_TRAVEL_TIME, "double"),
        "travel_distance_m": number(c.TRAVEL_DISTANCE, "double"),
    }
    doubles = {
        c.MEAN_TRAVEL_TIME: "mean_travel_time_s",
        c.LOWER_TRAVEL_TIME: "lower_bound_travel_time_s",
        c.UPPER_TRAVEL_TIME: "upper_bound_travel_time_s",
        c.TRAVEL_DISTANCE: "travel_distance_m",
    }

    ids_valid = [
        F.coalesce(typed[column] > 0, F.lit(False)) & matches(name, v.MOVEMENT_ID_PATTERN)
        for name, column in (
            (c.ORIGIN_ID, "origin_movement_id"),
            (c.DESTINATION_ID, "destination_movement_id"),
        )
    ]
    # Present numbers are finite non-negative decimals (a 400-digit integer casts to infinity).
    numbers_valid = [
        blank(name)
        | matches(name, v.TRAVEL_TIME_PATTERN)
        & F.coalesce(typed[column] < float("inf"), F.lit(False))
        for name, column in doubles.items()
    ]
    required = [*c.REQUIRED_VALUES, *(f for f in (c.DAY_OF_WEEK, c.PERIOD) if f in present)]
    breaks = {
        c.MALFORMED_ROW: F.col(CORRUPT_RECORD).isNotNull(),
        c.MISSING_FIELD: _any([blank(name) for name in required]),
        c.BAD_MOVEMENT_ID: ~_all(ids_valid),
        c.BAD_DATE_RANGE: ~F.col(dr.VALID),
        c.BAD_TRAVEL_TIME: ~_all(numbers_valid),
        c.NO_MEASUREMENT: blank(c.MEAN_TRAVEL_TIME),
    }
    # The first rule broken, in the contract's order. Not a CASE WHEN, which stops at the first
    # rule broken: Spark computes a part shared by several rules (the date's pieces) once only
    # where it is evaluated unconditionally, and a pass that needs the reason alone (the
    # rejects) then re-evaluated those pieces over and over, six times slower than here.
    verdicts = list(breaks)
    first_broken = F.least(*(F.when(breaks[name], i) for i, name in enumerate(verdicts)))
    reason = F.element_at(F.array(*map(F.lit, verdicts)), first_broken + 1)

    return [
        *kept,
        reason.alias(REJECT_REASON),
        *(value.alias(name) for name, value in typed.items()),
    ]


def verdict_counts(classified: DataFrame) -> list[Column]:
    """Aggregates for `DataFrame.observe`: logical rows, valid ones, and rows per reject reason
    and without a measurement."""
    reason = F.col(REJECT_REASON)
    return [
        F.count(F.lit(1)).alias("logical"),
        F.count(F.when(reason.isNull(), True)).alias("valid"),
        *(
            F.count(F.when(reason == name, True)).alias(name)
            for name in (*c.REJECT_REASONS, c.NO_MEASUREMENT)
        ),
    ]


def city_range(rows: DataFrame) -> list[Column]:
    """Aggregates for `DataFrame.observe`: the smallest and largest `city` value written (blank
    ones aside), compared as city names are (case, '-', '_' and spaces ignored). When they are
    one name, the job compares it with the folder's city."""
    if c.CITY not in rows.columns:
        return []
    name = F.lower(F.btrim(F.regexp_replace(F.col(c.CITY), "[-_ \t]+", " "), F.lit(" ")))
    written = F.when(name != "", name)
    return [F.min(written).alias("city_min"), F.max(written).alias("city_max")]


def table_rows(
    classified: DataFrame,
    source_key: str,
    city: str,
    ingested_at: dt.datetime,
    source_format: str,
    with_source_row: bool = False,
) -> DataFrame:
    """The valid rows as the table holds them, in the order they are written
    (`distributed_by_start_date`): the contract's columns and types, then the partition columns
    (city from the key; year/month/day of the START date, taken from `START_KEY`, which for a
    valid row are those numbers, so that Spark knows the rows are grouped by partition already);
    `source_row` last with `with_source_row`."""
    written_here = ("source_key", "ingested_at", "source_format")
    return (
        classified.where(F.col(REJECT_REASON).isNull())
        .select(
            *(F.col(name) for name in TABLE_COLUMNS if name not in written_here),
            F.lit(source_key).alias("source_key"),
            F.lit(ingested_at).cast("timestamp").alias("ingested_at"),
            F.lit(source_format).alias("source_format"),
            F.lit(city).alias("city"),
            *(F.col(k).alias(n) for k, n in zip(START_KEY, DATE_PARTITION_NAMES, strict=True)),
            F.col(SOURCE_ROW),
        )
        .select(
            *(field.name for field in TABLE_SCHEMA.fields),
            *([SOURCE_ROW] if with_source_row else []),
        )
    )


def in_write_order(table: DataFrame, unpivoted: bool) -> DataFrame:
    """`table_rows(..., with_source_row=True)` as the writer takes them: grouped by partition,
    in `SORT_COLUMNS` order within each. They are in that order already
    (`distributed_by_start_date`), and Spark knows it, unless the format's rows were `unpivoted`
    (one row per period, `logical_rows`): Spark's explode does not pass its input's order on, so
    the writer would sort them by partition alone, and the rows of a partition whose sort spills
    would come out in an order that depends on where it spilled. They are sorted here instead,
    ties in file order, so that a file's Parquet is the same however it was split."""
    if unpivoted:
        keys = (*DATE_PARTITION_NAMES, *SORT_COLUMNS, "time_of_day", SOURCE_ROW)
        table = table.sortWithinPartitions(*keys)
    return table.drop(SOURCE_ROW)


def rejected_rows(classified: DataFrame, fields: tuple[str, ...]) -> DataFrame:
    """The rows set aside, in file order: their logical fields' original text (`fields`, the
    format's), then why and where (and the row's text when it could not be split)."""
    return (
        classified.where(F.col(REJECT_REASON).isin(*c.REJECT_REASONS))
        .select(
            *(F.col(name) for name in fields if name in classified.columns),
            F.col(REJECT_REASON),
            F.col(SOURCE_ROW),
            F.col(CORRUPT_RECORD).alias(RAW_RECORD),
        )
        .repartition(1)  # few rows: one CSV per run
        .sortWithinPartitions(SOURCE_ROW)
    )
