"""The data contract's rules, as the validator, the Glue job and the generator all rely on them."""

from __future__ import annotations

import datetime as dt
import re
import sys

import pytest
from export_rows import valid_row

from contract import columns as c
from contract.errors import InvalidDateRange, InvalidSourceKey
from contract.events import object_created_rule_pattern
from contract.layout import (
    city_key,
    city_slug_suggestion,
    parse_source_key,
    partition_path,
    starts_workflow,
)
from contract.table import (
    add_columns_sql,
    create_table_sql,
    quote_string,
    register_partitions_sql,
    register_partitions_statements,
)
from contract.values import WHITESPACE, parse_date, parse_date_range, reject_reason


def row(**overrides: str | None) -> dict[str, str | None]:
    """A valid logical row, with some fields replaced (keyword = logical field)."""
    return valid_row(overrides)


# --- Date Range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "day_type", "time_of_day"),
    [
        (
            "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
            (2019, 6, 1),
            (2019, 6, 30),
            "Weekdays",
            "Daily Average",
        ),
        (
            "1/1/2020 - 1/1/2020, Every day, AM Peak (7AM - 10AM)",
            (2020, 1, 1),
            (2020, 1, 1),
            "Every day",
            "AM Peak",
        ),
        (
            "06/01/2019 - 06/30/2019, Weekends, Early Morning (12AM - 7AM)",
            (2019, 6, 1),
            (2019, 6, 30),
            "Weekends",
            "Early Morning",
        ),
        ("12/1/2019 - 12/31/2019", (2019, 12, 1), (2019, 12, 31), None, None),
        (
            "  4/1/2019-6/30/2019 ,Every day ,  PM Peak (4PM - 7PM)  ",
            (2019, 4, 1),
            (2019, 6, 30),
            "Every day",
            "PM Peak",
        ),
        (
            "2/29/2020 - 3/1/2020, Weekdays, Midday (10AM - 4PM)",
            (2020, 2, 29),
            (2020, 3, 1),
            "Weekdays",
            "Midday",
        ),
        ("1/1/2018 - 1/31/2018, Daily Average", (2018, 1, 1), (2018, 1, 31), None, "Daily Average"),
        ("1/1/2018 - 1/31/2018, Every day", (2018, 1, 1), (2018, 1, 31), "Every day", None),
        ("1/1/2018 - 1/31/2018, AM, weekends", (2018, 1, 1), (2018, 1, 31), "Weekends", "AM Peak"),
    ],
    ids=[
        "month",
        "single-day",
        "padded",
        "no-trailing-parts",
        "loose-spacing",
        "leap-day",
        "time-only",
        "days-only",
        "any-order-any-spelling",
    ],
)
def test_date_range_parses_dates_and_parts(text, start, end, day_type, time_of_day):
    parsed = parse_date_range(text)
    assert parsed.start_date == dt.date(*start)
    assert parsed.end_date == dt.date(*end)
    assert (parsed.day_type, parsed.time_of_day) == (day_type, time_of_day)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("6/30/2019 - 6/1/2019, Weekdays, Daily Average", "starts after it ends"),
        ("2/30/2019 - 3/1/2019, Weekdays, Daily Average", "does not exist"),
        ("2/29/2019 - 3/1/2019", "does not exist"),
        ("13/1/2019 - 13/31/2019", "does not exist"),
        ("June 2019", "is not 'M/D/YYYY - M/D/YYYY'"),
        ("2019-06-01 - 2019-06-30", "is not"),
        ("6/1/2019", "is not"),
        ("6/1/19 - 6/30/19", "is not"),
        ("6/1/2019 - 6/30/2019, Weekdays, Daily, Average", "is not"),
        ("6/1/2019 - 6/30/2019, Weekdays, Holidays", "names neither days"),
        ("6/1/2019 - 6/30/2019, Weekdays, Weekends", "names one twice"),
        ("6/1/1899 - 6/30/1899", "outside 1900..2100"),
        ("6/1/2101 - 6/30/2101", "outside 1900..2100"),
        ("6/1/2019 - 6/30/2019\n", "is not"),
        ("", "is not"),
    ],
)
def test_date_range_rejects_with_a_reason(text, message):
    with pytest.raises(InvalidDateRange, match=message):
        parse_date_range(text)


def test_the_daily_exports_date_is_one_day():
    parsed = parse_date("12/01/2019")
    assert parsed.start_date == parsed.end_date == dt.date(2019, 12, 1)
    for bad in ("2019-12-01", "12/32/2019", "1/1/2200", "12/1/2019 - 12/2/2019"):
        with pytest.raises(InvalidDateRange):
            parse_date(bad)


# --- row rules and reasons -------------------------------------------------------------------


def test_a_valid_row_has_no_reason():
    assert reject_reason(row()) is None
    assert reject_reason(row(lower="", upper="")) is None  # bounds may be empty
    assert reject_reason(row(mean="1834.5", lower=".5", upper="2000.")) is None
    assert reject_reason(row(origin_id=" 0042 ")) is None  # surrounding spaces are trimmed
    assert reject_reason(row(destination_name="")) is None  # real exports leave some empty


def test_an_empty_mean_with_everything_else_valid_is_no_measurement_not_a_reject():
    assert reject_reason(row(mean="")) == c.NO_MEASUREMENT
    assert reject_reason(row(mean=None, lower="", upper="")) == c.NO_MEASUREMENT
    assert reject_reason(row(mean="", origin_id="abc")) == c.BAD_MOVEMENT_ID
    assert c.NO_MEASUREMENT not in c.REJECT_REASONS


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"origin_id": ""}, c.MISSING_FIELD),
        ({"date_range": "   "}, c.MISSING_FIELD),
        ({"destination_id": "\u00a0\t"}, c.MISSING_FIELD),  # only (Unicode) whitespace
        ({"origin_id": "0"}, c.BAD_MOVEMENT_ID),
        ({"origin_id": "-17"}, c.BAD_MOVEMENT_ID),
        ({"destination_id": "abc"}, c.BAD_MOVEMENT_ID),
        ({"destination_id": "12.5"}, c.BAD_MOVEMENT_ID),
        ({"origin_id": "9223372036854775808"}, c.BAD_MOVEMENT_ID),  # above bigint
        ({"date_range": "garbage"}, c.BAD_DATE_RANGE),
        ({"date_range": "2/30/2019 - 3/1/2019"}, c.BAD_DATE_RANGE),
        ({"mean": "-5"}, c.BAD_TRAVEL_TIME),
        ({"mean": "n/a"}, c.BAD_TRAVEL_TIME),
        ({"upper": "1e3"}, c.BAD_TRAVEL_TIME),
        ({"mean": "1e400"}, c.BAD_TRAVEL_TIME),  # not finite
        ({"mean": "9" * 400}, c.BAD_TRAVEL_TIME),  # a 400-digit integer: infinite as a double
        ({"distance": "-3"}, c.BAD_TRAVEL_TIME),
        ({"date_range": "1/1/1850 - 1/2/1850"}, c.BAD_DATE_RANGE),
        ({"day_of_week": "Funday"}, c.BAD_DATE_RANGE),
        ({"period": "Brunch"}, c.BAD_DATE_RANGE),
        ({"period": " "}, c.MISSING_FIELD),
        # Several broken rules: the first in the contract's order wins.
        ({"date_range": "", "origin_id": "abc"}, c.MISSING_FIELD),
        ({"origin_id": "abc", "date_range": "garbage", "mean": "x"}, c.BAD_MOVEMENT_ID),
        ({"date_range": "garbage", "mean": "x"}, c.BAD_DATE_RANGE),
    ],
)
def test_reject_reason_names_the_first_rule_broken(overrides, reason):
    assert reject_reason(row(**overrides)) == reason


def test_reasons_are_checked_in_the_documented_order():
    assert c.REJECT_REASONS == (
        "malformed_row",
        "missing_field",
        "bad_movement_id",
        "bad_date_range",
        "bad_travel_time",
    )


def test_whitespace_is_exactly_what_str_strip_removes():
    every_space = "".join(chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace())
    assert every_space == WHITESPACE
    assert ("\u3000 x\t\n".strip(WHITESPACE), " x ".strip()) == ("x", "x")


# --- keys and slugs --------------------------------------------------------------------------


def test_a_key_in_the_layout_gives_city_and_file():
    key = parse_source_key("travel_times/sao-paulo/2019-q2.csv.gz")
    assert (key.city, key.file_name, key.gzipped) == ("sao-paulo", "2019-q2.csv.gz", True)
    # the data.world copies name their cities with underscores
    key = parse_source_key("travel_times/johannesburg_and_pretoria/travel_times.csv")
    assert key.city == "johannesburg_and_pretoria"


@pytest.mark.parametrize(
    ("column", "folder", "same"),
    [
        ("Johannesburg and Pretoria", "johannesburg_and_pretoria", True),
        ("Washington DC", "washington_dc", True),
        ("São Paulo", "sao-paulo", True),
        ("paris", "paris", True),
        ("Boston", "paris", False),
    ],
)
def test_a_city_column_names_its_folder_ignoring_case_accents_and_separators(column, folder, same):
    assert (city_key(column) == city_key(folder)) is same


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("travel_times/2019-q2.csv", "0 folder(s) below travel_times/"),
        ("travel_times/bogota/2019/q2.csv", "2 folder(s)"),
        ("travel_times/São Paulo/q2.csv", "'sao-paulo'"),
        ("travel_times/_bogota/q2.csv", "not a valid city folder"),
        ("travel_times/-bogota/q2.csv", "not a valid city folder"),
        ("travel_times/b/q2.csv", "not a valid city folder"),  # too short
        ("travel_times/" + "a" * 65 + "/q2.csv", "not a valid city folder"),  # too long
        ("travel_times/bogota/.csv", "empty file name"),
        ("other/bogota/q2.csv", "not a travel-times export"),
        ("travel_times/bogota/q2.parquet", "not a travel-times export"),
    ],
)
def test_a_key_off_the_layout_is_refused_with_the_layout(key, message):
    with pytest.raises(InvalidSourceKey, match=re.escape(message)):
        parse_source_key(key)


@pytest.mark.parametrize(
    ("key", "starts"),
    [
        ("travel_times/bogota/q2.csv", True),
        ("travel_times/q2.csv.gz", True),  # starts the workflow, then fails validation
        ("travel_times/bogota/q2.CSV", False),
        ("uploads/bogota/q2.csv", False),
    ],
)
def test_which_keys_start_the_workflow(key, starts):
    assert starts_workflow(key) is starts


def test_the_event_rule_matches_the_layouts_prefix_and_suffixes():
    key_filters = object_created_rule_pattern("raw")["detail"]["object"]["key"]
    assert key_filters == [
        {"wildcard": "travel_times/*.csv"},
        {"wildcard": "travel_times/*.csv.gz"},
    ]


@pytest.mark.parametrize(
    ("name", "slug"),
    [("São Paulo", "sao-paulo"), ("Bogotá D.C.", "bogota-d-c"), ("!", "my-city")],
)
def test_city_slug_suggestion(name, slug):
    assert city_slug_suggestion(name) == slug


def test_partition_folders_are_hive_style_and_unpadded():
    assert partition_path("bogota", 2019, 6, 1) == "city=bogota/year=2019/month=6/day=1"


# --- catalog SQL -----------------------------------------------------------------------------


def test_register_partitions_sql_quotes_values_safely():
    sql = register_partitions_sql(
        "uber_movement",
        "travel_times",
        [
            {"city": "bogota", "year": 2019, "month": 6, "day": 1},
            {"city": "o'brien\\", "year": "2020", "month": 12, "day": 31},
        ],
    )
    assert sql == (
        "ALTER TABLE `uber_movement`.`travel_times` ADD IF NOT EXISTS\n"
        "  PARTITION (city='bogota', year=2019, month=6, day=1)\n"
        "  PARTITION (city='o\\'brien\\\\', year=2020, month=12, day=31)"
    )


def test_register_partitions_sql_needs_a_partition():
    with pytest.raises(ValueError, match="no partitions"):
        register_partitions_sql("db", "t", [])


def test_register_partitions_sql_refuses_a_non_integer_date_part():
    with pytest.raises(ValueError):
        register_partitions_sql(
            "db", "t", [{"city": "x", "year": "2019; DROP", "month": 1, "day": 1}]
        )


def test_quote_string_cannot_end_the_literal_early():
    assert quote_string("a'b\\") == "'a\\'b\\\\'"


def test_partitions_are_registered_in_statements_under_athenas_limit():
    partitions = [
        {"city": "bogota", "year": 2010 + i // 365, "month": 1 + i % 12, "day": 1 + i % 28}
        for i in range(3650)
    ]
    statements = register_partitions_statements("db", "t", partitions, max_bytes=50_000)
    assert len(statements) > 1
    assert all(len(s.encode()) <= 50_000 for s in statements)
    specs = [line.strip() for s in statements for line in s.splitlines()[1:]]
    assert len(specs) == len(partitions)  # every partition once, none lost between statements
    assert register_partitions_statements("db", "t", []) == []


def test_add_columns_sql_adds_the_newer_columns_as_athena_ddl():
    newer = [col for col in c.DATA_COLUMNS if col.name in ("travel_distance_m", "source_format")]
    assert add_columns_sql("uber_movement", "travel_times", newer) == (
        "ALTER TABLE `uber_movement`.`travel_times` ADD COLUMNS ("
        "`travel_distance_m` double COMMENT 'TravelDistance (meters), where given', "
        "`source_format` string COMMENT 'the accepted format the row came from')"
    )


def test_create_table_sql_has_every_contract_column_and_partition():
    sql = create_table_sql("uber_movement", "travel_times", "s3://curated/travel_times/")
    for column in (*c.DATA_COLUMNS, *c.PARTITION_COLUMNS):
        assert f"`{column.name}` {column.athena_type}" in sql
    assert "PARTITIONED BY (`city` string, `year` int, `month` int, `day` int)" in sql
    assert "LOCATION 's3://curated/travel_times/'" in sql
