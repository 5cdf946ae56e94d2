"""The Spark checks and casts give, row by row, what the contract's Python rules give: for the
Date Range (and the daily export's Date) with its canonical period names, for each rule of a
logical row, and for every accepted format read through its declaration."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter

import pytest
from export_rows import valid_row
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from contract import columns as c
from contract import formats
from contract.errors import InvalidDateRange
from contract.values import parse_date, parse_date_range, reject_reason
from glue import date_range as dr
from glue import rows as transform
from glue.job import SQL_SETTINGS
from glue.read import export_schema, read_export
from lake.ui.generate import FORMATS, generate

pytestmark = pytest.mark.spark

# Values that exercise both the canonical path and the regex path of the Date Range parser.
DATE_RANGES = [
    "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
    "1/1/2020 - 1/1/2020, Every day, AM Peak (7AM - 10AM)",
    "12/30/2019 - 1/5/2020, Weekends, Early Morning (12AM - 7AM)",
    "06/01/2019 - 06/30/2019, Weekdays, Daily Average",
    "6/1/2019 - 6/30/2019",
    "6/1/2019 - 6/30/2019\n",
    "6/1/2019 - 6/30/2019, Weekdays, Daily Average\n",
    "6/1/2019 - 6/30/2019, Weekdays, Daily Average\r",
    " \t6/1/2019-6/30/2019 ,Weekdays,\tDaily Average \t",
    "6/1/2019 - 6/30/2019,  Weekdays, Daily Average",
    "6/1/2019 - 6/30/2019, Weekdays , Daily Average",
    "6/1/2019 - 6/30/2019, Week|days, Daily/Average",
    "6/1/2019 - 6/30/2019, Weekdays, Daily,Average",
    "6/1/2019 - 6/30/2019, Weekdays, Daily, Average",
    "6/1/2019 - 6/30/2019, Weekdays",
    "6/1/2019 - 6/30/2019, Daily Average",
    "6/1/2019 - 6/30/2019, AM Peak (7AM - 10AM), weekend",
    "6/1/2019 - 6/30/2019, Weekdays, Weekends",
    "6/1/2019 - 6/30/2019, Weekdays, Holidays",
    "6/1/2019 - 6/30/2019, Weekdays, Daily Average,",
    "6/1/2019 - 6/30/2019, every  day , am peak ( 7am )",
    "6/1/2019 - 6/30/2019, Weekdays, Daily Average (x)\n",
    "6/1/2019 - 6/30/2019, , Daily Average",
    "6/1/1899 - 6/30/1899, Weekdays, Daily Average",
    "6/1/2100 - 6/30/2100",
    "6/1/2101 - 6/30/2101",
    "6/30/2019 - 6/1/2019, Weekdays, Daily Average",
    "2/29/2020 - 3/1/2020, Weekdays, Daily Average",
    "2/29/2019 - 3/1/2019, Weekdays, Daily Average",
    "2/30/2019 - 3/1/2019",
    "13/1/2019 - 13/2/2019, Weekdays, Daily Average",
    "0/1/2019 - 1/1/2019",
    "1/1/0000 - 1/2/0000, Weekdays, Daily Average",
    "1/1/0999 - 1/2/0999, Weekdays, Daily Average",
    "+6/1/2019 - 6/30/2019, Weekdays, Daily Average",
    "6 /1/2019 - 6/30/2019, Weekdays, Daily Average",
    "6/1/19 - 6/30/19",
    "100/1/2019 - 6/30/2019, Weekdays, Daily Average",
    "6/1/2019 - 6/30/2019 - 7/1/2019, Weekdays, Daily Average",
    "6/1/2019 — 6/30/2019, Weekdays, Daily Average",
    "٦/1/2019 - 6/30/2019, Weekdays, Daily Average",  # an Arabic-Indic digit
    "2019-06-01 - 2019-06-30",
    "garbage",
    "",
    None,
]


@pytest.fixture(scope="module")
def job_spark(spark):
    for key, value in SQL_SETTINGS.items():
        spark.conf.set(key, value)
    return spark


DATES = [
    "12/01/2019",
    "12/1/2019",
    " 12/1/2019\t",
    "2/29/2020",
    "2/29/2019",
    "13/1/2019",
    "1/1/2200",
    "2019-12-01",
    "12/1/2019 - 12/2/2019",
    "12/1/19",
    "",
    None,
]


def test_no_spelling_as_written_of_one_kind_has_a_normal_form_of_the_other():
    # glue.date_range skips the normal form (a regex) for spellings as written: exact only so.
    from contract import periods

    for written, other_normal in (
        (periods.DAY_TYPE_AS_WRITTEN, periods.TIME_OF_DAY_NORMAL),
        (periods.TIME_OF_DAY_AS_WRITTEN, periods.DAY_TYPE_NORMAL),
    ):
        assert not [s for s in written if periods.normal_form(s) in other_normal]


@pytest.mark.parametrize(
    ("values", "single_date", "parse"),
    [(DATE_RANGES, False, parse_date_range), (DATES, True, parse_date)],
    ids=["date-range", "daily-date"],
)
def test_date_ranges_parse_in_spark_as_the_contract_parses_them(
    job_spark, values, single_date, parse
):
    schema = StructType([StructField(c.DATE_RANGE, StringType())])
    frame = job_spark.createDataFrame([(v,) for v in values], schema)
    rows = (
        dr.with_periods(frame, single_date)
        .select(
            F.col(c.DATE_RANGE).alias("value"),
            F.col(dr.VALID).alias("valid"),
            dr.START_DATE,
            dr.END_DATE,
            dr.DAY_TYPE,
            dr.TIME_OF_DAY,
        )
        .collect()
    )
    assert len(rows) == len(values)
    for row in rows:
        try:
            expected = parse(row.value or "")
        except InvalidDateRange:
            assert row.valid is False, row.value
            continue
        assert row.valid is True, row.value
        assert (row.start_date, row.end_date, row.day_type, row.time_of_day) == (
            expected.start_date,
            expected.end_date,
            expected.day_type,
            expected.time_of_day,
        ), row.value


LOGICAL = (*formats.MOVEMENT_COLUMNS, c.TRAVEL_DISTANCE)


def _logical_frame(spark, rows: list[dict[str, str | None]], fields=LOGICAL):
    names = [*fields, transform.CORRUPT_RECORD, transform.SOURCE_ROW]
    schema = StructType([StructField(n, StringType()) for n in names])
    data = [Row(*(r.get(n) for n in fields), None, str(i)) for i, r in enumerate(rows, 1)]
    return spark.createDataFrame(data, schema)


# Edge values of each rule, including whitespace that only Python's str.strip() knows.
EDGE_ROWS = [
    valid_row(),
    valid_row({c.ORIGIN_ID: " 0042 ", c.MEAN_TRAVEL_TIME: "\u00a01834.50\u3000"}),
    valid_row({c.LOWER_TRAVEL_TIME: "", c.UPPER_TRAVEL_TIME: None}),
    valid_row({c.LOWER_TRAVEL_TIME: " ", c.UPPER_TRAVEL_TIME: "\t"}),
    valid_row({c.MEAN_TRAVEL_TIME: ".5", c.UPPER_TRAVEL_TIME: "7."}),
    valid_row({c.ORIGIN_NAME: "\u2003"}),
    valid_row({c.ORIGIN_NAME: "\x01"}),  # a control character, not whitespace
    valid_row({c.DESTINATION_NAME: "\u00a0Zona Norte"}),
    valid_row({c.DATE_RANGE: "\u2028"}),
    valid_row({c.MEAN_TRAVEL_TIME: None}),
    valid_row({c.MEAN_TRAVEL_TIME: "", c.LOWER_TRAVEL_TIME: "", c.UPPER_TRAVEL_TIME: ""}),
    valid_row({c.MEAN_TRAVEL_TIME: " ", c.ORIGIN_ID: "x"}),
    valid_row({c.MEAN_TRAVEL_TIME: "1e400"}),
    valid_row({c.MEAN_TRAVEL_TIME: "9" * 400}),
    valid_row({c.UPPER_TRAVEL_TIME: "9" * 309}),
    valid_row({c.TRAVEL_DISTANCE: "4302"}),
    valid_row({c.TRAVEL_DISTANCE: "-1"}),
    valid_row({c.TRAVEL_DISTANCE: " "}),
    valid_row({c.ORIGIN_NAME: ""}),
    valid_row({c.DESTINATION_NAME: None}),
    valid_row({c.ORIGIN_ID: "0"}),
    valid_row({c.ORIGIN_ID: "00"}),
    valid_row({c.ORIGIN_ID: "+5"}),
    valid_row({c.ORIGIN_ID: "-5"}),
    valid_row({c.ORIGIN_ID: "5.0"}),
    valid_row({c.DESTINATION_ID: "9223372036854775807"}),
    valid_row({c.DESTINATION_ID: "9223372036854775808"}),
    valid_row({c.DESTINATION_ID: "99999999999999999999"}),
    valid_row({c.DESTINATION_ID: "١٢"}),  # Arabic-Indic digits
    valid_row({c.MEAN_TRAVEL_TIME: "-0"}),
    valid_row({c.MEAN_TRAVEL_TIME: "1e3"}),
    valid_row({c.MEAN_TRAVEL_TIME: "Infinity"}),
    valid_row({c.MEAN_TRAVEL_TIME: "NaN"}),
    valid_row({c.MEAN_TRAVEL_TIME: "5d"}),
    valid_row({c.MEAN_TRAVEL_TIME: "."}),
    valid_row({c.LOWER_TRAVEL_TIME: "0x10"}),
    valid_row({c.UPPER_TRAVEL_TIME: "1,5"}),
    *(valid_row({c.DATE_RANGE: value}) for value in DATE_RANGES),
    valid_row({c.ORIGIN_ID: "abc", c.DATE_RANGE: "garbage", c.MEAN_TRAVEL_TIME: "x"}),
    valid_row({c.DATE_RANGE: "garbage", c.MEAN_TRAVEL_TIME: "x"}),
]


def test_edge_rows_get_the_contracts_reason(job_spark):
    classified = transform.classify(_logical_frame(job_spark, EDGE_ROWS))
    got = {
        int(r[transform.SOURCE_ROW]): r[transform.REJECT_REASON]
        for r in classified.select(transform.SOURCE_ROW, transform.REJECT_REASON).collect()
    }
    expected = {i: reject_reason(row) for i, row in enumerate(EDGE_ROWS, 1)}
    mismatches = {
        i: (EDGE_ROWS[i - 1], got[i], expected[i]) for i in expected if got[i] != expected[i]
    }
    assert not mismatches


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_generated_rows_of_every_format_get_the_contracts_verdict_row_by_row(
    job_spark, tmp_path, name
):
    # GIVEN a generated export of that format with rows breaking each rule and empty means,
    # read as the job reads it (through the format's declaration)
    path = tmp_path / f"{name}.csv"
    generate(path, rows=600, seed=21, bad_share=0.3, export_format=name, empty_means=0.1)
    with path.open(encoding="utf-8", newline="") as f:
        header, *records = csv.reader(f)
    recognised = formats.recognise(header)
    single = recognised.format.single_date
    expected = Counter()
    for fields in records:
        if len(fields) != len(header):
            expected[c.MALFORMED_ROW] += 1
            continue
        for row in formats.logical_rows(recognised, fields):
            expected[reject_reason(row, single)] += 1
    raw = transform.numbered(read_export(job_spark, str(path), export_schema(header)))
    # WHEN Spark reads them into logical rows and classifies them
    logical = transform.logical_rows(raw, recognised)
    classified = transform.classify(logical, single)
    got = Counter(
        r[transform.REJECT_REASON] for r in classified.select(transform.REJECT_REASON).collect()
    )
    # THEN every verdict is the contract's, as many times
    assert got == expected
    assert got[None] > 0 and sum(got[r] for r in c.REJECT_REASONS) > 0


def test_valid_rows_are_cast_to_the_contract_types(job_spark):
    rows = [valid_row({c.ORIGIN_ID: " 0042 ", c.UPPER_TRAVEL_TIME: "", c.TRAVEL_DISTANCE: "4302"})]
    ingested_at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    logical = _logical_frame(job_spark, rows)  # (the start key as the shuffle adds it)
    table = transform.table_rows(
        transform.classify(logical.select("*", *transform.start_key(F.col(c.DATE_RANGE)))),
        "travel_times/x/y.csv",
        "x",
        ingested_at,
        "movement_travel_times",
    )
    assert [(f.name, f.dataType) for f in table.schema] == [
        (f.name, f.dataType) for f in transform.TABLE_SCHEMA
    ]
    assert [f.name for f in table.schema] == [
        *(col.name for col in c.DATA_COLUMNS),
        *(col.name for col in c.PARTITION_COLUMNS),
    ]
    (row,) = table.collect()
    assert row.asDict() == {
        "origin_movement_id": 42,
        "origin_display_name": 'Rua "Augusta", São Paulo',
        "destination_movement_id": 9,
        "destination_display_name": "Movement Zone 9",
        "date_range": "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
        "start_date": dt.date(2019, 6, 1),
        "end_date": dt.date(2019, 6, 30),
        "day_type": "Weekdays",
        "time_of_day": "Daily Average",
        "mean_travel_time_s": 2164.0,
        "lower_bound_travel_time_s": 1666.0,
        "upper_bound_travel_time_s": None,
        "source_key": "travel_times/x/y.csv",
        "ingested_at": ingested_at.replace(tzinfo=None),
        "travel_distance_m": 4302.0,
        "source_format": "movement_travel_times",
        "city": "x",
        "year": 2019,
        "month": 6,
        "day": 1,
    }
