"""The data contract's rules, as the validator, the Glue job and the generator all rely on them."""

from __future__ import annotations

import datetime as dt
import re
import sys

import pytest
from export_rows import valid_row

from contract import columns as c
from contract.errors import InvalidDateRange, InvalidSourceKey, MissingColumns
from contract.events import object_created_rule_pattern
from contract.layout import (
    city_slug_suggestion,
    parse_source_key,
    partition_path,
    starts_workflow,
)
from contract.table import create_table_sql, quote_string, register_partitions_sql
from contract.values import (
    WHITESPACE,
    parse_date_range,
    reject_reason,
    resolve_header,
)


def row(**overrides: str | None) -> dict[str, str | None]:
    """A valid export row, with some values replaced (keyword = column constant name)."""
    names = {
        "origin_id": c.ORIGIN_ID,
        "origin_name": c.ORIGIN_NAME,
        "destination_id": c.DESTINATION_ID,
        "destination_name": c.DESTINATION_NAME,
        "date_range": c.DATE_RANGE,
        "mean": c.MEAN_TRAVEL_TIME,
        "lower": c.LOWER_TRAVEL_TIME,
        "upper": c.UPPER_TRAVEL_TIME,
    }
    return valid_row({names[k]: v for k, v in overrides.items()})


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
            "AM Peak (7AM - 10AM)",
        ),
        (
            "06/01/2019 - 06/30/2019, Weekends, Early Morning (12AM - 7AM)",
            (2019, 6, 1),
            (2019, 6, 30),
            "Weekends",
            "Early Morning (12AM - 7AM)",
        ),
        ("12/1/2019 - 12/31/2019", (2019, 12, 1), (2019, 12, 31), None, None),
        (
            "  4/1/2019-6/30/2019 ,Every day ,  PM Peak (4PM - 7PM)  ",
            (2019, 4, 1),
            (2019, 6, 30),
            "Every day",
            "PM Peak (4PM - 7PM)",
        ),
        (
            "2/29/2020 - 3/1/2020, Weekdays, Midday (10AM - 4PM)",
            (2020, 2, 29),
            (2020, 3, 1),
            "Weekdays",
            "Midday (10AM - 4PM)",
        ),
    ],
    ids=["month", "single-day", "padded", "no-trailing-parts", "loose-spacing", "leap-day"],
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
        ("6/1/2019 - 6/30/2019, Weekdays", "is not"),  # days without time of day
        ("6/1/2019 - 6/30/2019, Weekdays, Daily, Average", "is not"),
        ("", "is not"),
    ],
)
def test_date_range_rejects_with_a_reason(text, message):
    with pytest.raises(InvalidDateRange, match=message):
        parse_date_range(text)


# --- row rules and reasons -------------------------------------------------------------------


def test_a_valid_row_has_no_reason():
    assert reject_reason(row()) is None
    assert reject_reason(row(lower="", upper="")) is None  # bounds may be empty
    assert reject_reason(row(mean="1834.5", lower=".5", upper="2000.")) is None
    assert reject_reason(row(origin_id=" 0042 ")) is None  # surrounding spaces are trimmed


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"origin_name": ""}, c.MISSING_FIELD),
        ({"date_range": "   "}, c.MISSING_FIELD),
        ({"mean": None}, c.MISSING_FIELD),
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
        # Several broken rules: the first in the contract's order wins.
        ({"origin_name": "", "origin_id": "abc"}, c.MISSING_FIELD),
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


# --- header ----------------------------------------------------------------------------------


def test_header_resolves_in_any_order_with_bom_spaces_and_extras():
    header = [
        "\ufeff Date Range",
        "Origin Geometry",
        *reversed(c.SOURCE_COLUMNS[:4]),
        " Mean Travel Time (Seconds) ",
        c.LOWER_TRAVEL_TIME,
        c.UPPER_TRAVEL_TIME,
    ]
    positions = resolve_header(header)
    assert positions[c.DATE_RANGE] == 0
    assert positions[c.DESTINATION_NAME] == 2
    assert positions[c.ORIGIN_ID] == 5
    assert positions[c.MEAN_TRAVEL_TIME] == 6
    assert set(positions) == set(c.SOURCE_COLUMNS)  # the extra column is not required


def test_header_missing_columns_says_which_and_what_is_expected():
    header = [name for name in c.SOURCE_COLUMNS if name != c.DATE_RANGE]
    with pytest.raises(MissingColumns) as error:
        resolve_header(header, source="travel_times/bogota/q2.csv")
    message = str(error.value)
    assert message.startswith(
        "travel_times/bogota/q2.csv lacks the required column(s) 'Date Range'"
    )
    assert "any order, extra columns allowed" in message


# --- keys and slugs --------------------------------------------------------------------------


def test_a_key_in_the_layout_gives_city_and_file():
    key = parse_source_key("travel_times/sao-paulo/2019-q2.csv.gz")
    assert (key.city, key.file_name, key.gzipped) == ("sao-paulo", "2019-q2.csv.gz", True)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("travel_times/2019-q2.csv", "0 folder(s) below travel_times/"),
        ("travel_times/bogota/2019/q2.csv", "2 folder(s)"),
        ("travel_times/São Paulo/q2.csv", "'sao-paulo'"),
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


def test_create_table_sql_has_every_contract_column_and_partition():
    sql = create_table_sql("uber_movement", "travel_times", "s3://curated/travel_times/")
    for column in (*c.DATA_COLUMNS, *c.PARTITION_COLUMNS):
        assert f"`{column.name}` {column.athena_type}" in sql
    assert "PARTITIONED BY (`city` string, `year` int, `month` int, `day` int)" in sql
    assert "LOCATION 's3://curated/travel_times/'" in sql
