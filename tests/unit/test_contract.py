"""The data contract's rules, as the validator, the Glue job and the generator apply them."""

from __future__ import annotations

import datetime as dt

import pytest

from contract import columns as c
from contract.errors import InvalidDateRange, InvalidSourceKey, MissingColumns
from contract.layout import object_created_rule_pattern, parse_source_key, partition_path
from contract.table import register_partitions_sql
from contract.values import parse_date_range, reject_reason, resolve_header


@pytest.mark.parametrize(
    ("text", "start", "end", "day_type", "time_of_day"),
    [
        ("6/1/2019 - 6/1/2019", dt.date(2019, 6, 1), dt.date(2019, 6, 1), None, None),
        (
            "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
            dt.date(2019, 6, 1),
            dt.date(2019, 6, 30),
            "Weekdays",
            "Daily Average",
        ),
        (
            "06/01/2019 - 06/30/2019, Every day, AM Peak (7AM - 10AM)",
            dt.date(2019, 6, 1),
            dt.date(2019, 6, 30),
            "Every day",
            "AM Peak (7AM - 10AM)",
        ),
        (
            " 12/30/2019-1/2/2020 ,  Weekends ,  Early Morning (12AM - 7AM) ",
            dt.date(2019, 12, 30),
            dt.date(2020, 1, 2),
            "Weekends",
            "Early Morning (12AM - 7AM)",
        ),
    ],
)
def test_date_ranges_parse_into_dates_day_type_and_time_of_day(
    text, start, end, day_type, time_of_day
):
    parsed = parse_date_range(text)
    assert (parsed.start_date, parsed.end_date) == (start, end)
    assert (parsed.day_type, parsed.time_of_day) == (day_type, time_of_day)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("6/30/2019 - 6/1/2019", "starts after it ends"),
        ("2/30/2019 - 3/1/2019", "does not exist"),
        ("13/1/2019 - 13/2/2019", "does not exist"),
        ("June 2019", "is not"),
        ("6/1/2019", "is not"),
        ("6/1/2019 - 6/30/2019, Weekdays", "is not"),  # days without a time of day
        ("6/1/19 - 6/30/19", "is not"),
        ("", "is not"),
    ],
)
def test_bad_date_ranges_say_what_is_wrong(text, why):
    with pytest.raises(InvalidDateRange, match=why):
        parse_date_range(text)


@pytest.mark.parametrize(
    "key",
    ["travel_times/bogota/2019.csv", "travel_times/sao-paulo/q2.csv.gz", "travel_times/a1/x.csv"],
)
def test_keys_that_follow_the_layout_give_their_city(key):
    assert parse_source_key(key).city == key.split("/")[1]


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("travel_times/x.csv", "folder"),
        ("travel_times/bogota/2019/x.csv", "folder"),
        ("travel_times/Bogota/x.csv", "bogota"),
        ("travel_times/-lima/x.csv", "lima"),
        ("travel_times/s/x.csv", "slug"),
        ("travel_times/" + "a" * 65 + "/x.csv", "slug"),
        ("travel_times/bogota/.csv", "empty file name"),
        ("other/bogota/x.csv", "travel_times/<city>/"),
    ],
)
def test_keys_that_break_the_layout_are_refused_with_the_expected_layout(key, hint):
    with pytest.raises(InvalidSourceKey) as error:
        parse_source_key(key)
    assert hint in str(error.value)
    assert key in str(error.value)


def test_header_resolves_in_any_order_with_bom_spaces_and_extra_columns():
    header = ["\ufeff Date Range", "Origin Geometry", *reversed(c.SOURCE_COLUMNS[:4])]
    header += [f" {name} " for name in c.SOURCE_COLUMNS[5:]]
    positions = resolve_header(header)
    assert positions[c.DATE_RANGE] == 0
    assert positions[c.ORIGIN_ID] == 5
    assert positions[c.UPPER_TRAVEL_TIME] == len(header) - 1


def test_a_missing_column_is_named_with_what_the_header_has():
    header = [name for name in c.SOURCE_COLUMNS if name != c.MEAN_TRAVEL_TIME]
    with pytest.raises(MissingColumns) as error:
        resolve_header(header, source="s3://raw/travel_times/bogota/x.csv")
    message = str(error.value)
    assert "'Mean Travel Time (Seconds)'" in message
    assert "s3://raw/travel_times/bogota/x.csv" in message


def _row(**changes):
    row = {
        c.ORIGIN_ID: "2922",
        c.ORIGIN_NAME: 'Rua "Augusta", São Paulo',
        c.DESTINATION_ID: "9",
        c.DESTINATION_NAME: "Movement Zone 9",
        c.DATE_RANGE: "6/1/2019 - 6/30/2019, Weekdays, Daily Average",
        c.MEAN_TRAVEL_TIME: "2164",
        c.LOWER_TRAVEL_TIME: "1666",
        c.UPPER_TRAVEL_TIME: "",
    }
    return {**row, **changes}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({c.MEAN_TRAVEL_TIME: "2164.5", c.LOWER_TRAVEL_TIME: ""}, None),
        ({c.ORIGIN_NAME: " "}, c.MISSING_FIELD),
        ({c.MEAN_TRAVEL_TIME: ""}, c.MISSING_FIELD),
        ({c.ORIGIN_ID: "0"}, c.BAD_MOVEMENT_ID),
        ({c.DESTINATION_ID: "-9"}, c.BAD_MOVEMENT_ID),
        ({c.ORIGIN_ID: "12a"}, c.BAD_MOVEMENT_ID),
        ({c.DATE_RANGE: "6/30/2019 - 6/1/2019"}, c.BAD_DATE_RANGE),
        ({c.MEAN_TRAVEL_TIME: "-1"}, c.BAD_TRAVEL_TIME),
        ({c.UPPER_TRAVEL_TIME: "n/a"}, c.BAD_TRAVEL_TIME),
        ({c.ORIGIN_ID: "0", c.DATE_RANGE: "garbage"}, c.BAD_MOVEMENT_ID),  # first rule wins
    ],
)
def test_row_rules_give_the_first_reason_that_applies(changes, reason):
    assert reject_reason(_row(**changes)) == reason


def test_partition_folders_are_hive_style_and_unpadded():
    assert partition_path("bogota", 2019, 6, 1) == "city=bogota/year=2019/month=6/day=1"


def test_partition_registration_sql_quotes_values_and_adds_only_missing_partitions():
    sql = register_partitions_sql(
        "uber_movement",
        "travel_times",
        [{"city": "o'x", "year": 2019, "month": 6, "day": 1}],
    )
    assert sql.startswith("ALTER TABLE `uber_movement`.`travel_times` ADD IF NOT EXISTS")
    assert "PARTITION (city='o\\'x', year=2019, month=6, day=1)" in sql
    with pytest.raises(ValueError):
        register_partitions_sql("d", "t", [])


def test_the_rule_pattern_matches_the_contract_prefix_and_suffixes():
    key_filters = object_created_rule_pattern("raw")["detail"]["object"]["key"]
    assert key_filters == [
        {"wildcard": "travel_times/*.csv"},
        {"wildcard": "travel_times/*.csv.gz"},
    ]
