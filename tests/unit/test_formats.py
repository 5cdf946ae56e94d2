"""The accepted formats as declared in `contract.formats`, each against the repository's own
hand-written fixture in the real files' shape; the Movement products recognised and refused; and
the canonical period names."""

from __future__ import annotations

import csv

import pytest
from export_rows import FIXTURES, expected

from contract import columns as c
from contract import formats
from contract.errors import MissingColumns, UnsupportedProduct
from contract.periods import canonical_day_type, canonical_time_of_day
from contract.values import row_periods


def header_of(name: str) -> list[str]:
    with (FIXTURES / name).open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


# What each fixture must give (counted by hand from the files).
FIXTURE_EXPECTATIONS = {
    "movement_quoted.csv": ("movement_travel_times", 5, 0, 5, 0, 10845.5),
    "movement_unquoted_distance.csv": ("movement_travel_times", 4, 0, 4, 0, 4244.25),
    "data_world_geometry.csv": ("data_world_snake_case", 3, 0, 3, 0, 7910.0),
    "daily.csv": ("movement_travel_times_daily", 5, 1, 9, 15, 16369.0),
    "day_of_week.csv": ("movement_day_of_week", 5, 0, 5, 0, 13077.0),
    "time_of_day.csv": ("movement_time_of_day", 6, 0, 5, 1, 13832.0),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTATIONS))
def test_each_fixture_is_read_through_its_declaration(name):
    fmt, read, duplicates, written, no_measurement, mean_sum = FIXTURE_EXPECTATIONS[name]
    got = expected(FIXTURES / name)
    assert (got.format, got.read, got.duplicate_rows) == (fmt, read, duplicates)
    assert (got.written, got.verdicts[c.NO_MEASUREMENT]) == (written, no_measurement)
    assert set(got.verdicts) <= {"valid", c.NO_MEASUREMENT}  # nothing rejected
    assert got.mean_sum == pytest.approx(mean_sum)


def test_headers_match_after_quotes_spaces_case_and_a_byte_order_mark():
    header = ['\ufeff "origin movement id"', *header_of("movement_quoted.csv")[1:]]
    header[4] = "  DATE   RANGE "
    assert formats.recognise(header).format is formats.TRAVEL_TIMES


def test_columns_in_any_order_and_extra_columns_are_fine():
    header = header_of("movement_unquoted_distance.csv")
    shuffled = [header[4], "Notes", *reversed(header[:4]), *header[5:]]
    recognised = formats.recognise(shuffled)
    assert recognised.positions[c.DATE_RANGE] == 0
    assert recognised.positions[c.ORIGIN_ID] == 5
    assert recognised.positions[c.TRAVEL_DISTANCE] == 9


def test_the_most_specific_format_wins():
    # The Day Of Week export has every column of the Travel Times export, plus its own.
    assert formats.recognise(header_of("day_of_week.csv")).format is formats.DAY_OF_WEEK
    assert formats.recognise(header_of("time_of_day.csv")).format is formats.TIME_OF_DAY


def test_the_daily_export_unpivots_one_logical_row_per_period():
    recognised = formats.recognise(header_of("daily.csv"))
    with (FIXTURES / "daily.csv").open(encoding="utf-8", newline="") as f:
        first = list(csv.reader(f))[1]
    rows = formats.logical_rows(recognised, first)
    assert [row[c.PERIOD] for row in rows] == [p.name for p in formats.DAILY.periods]
    assert [row[c.MEAN_TRAVEL_TIME] for row in rows] == ["1934", "", "", "1893", "2072", ""]
    assert {row[c.DATE_RANGE] for row in rows} == {"12/01/2019"}
    periods = row_periods(rows[1], single_date=True)
    assert (str(periods.start_date), periods.time_of_day, periods.day_type) == (
        "2019-12-01",
        "AM Peak",
        None,
    )


@pytest.mark.parametrize(
    ("name", "product"),
    [
        ("comparison.csv", "comparison"),
        ("bulk_hod.csv", "bulk aggregate"),
        ("speeds.csv", "speeds"),
    ],
)
def test_recognised_products_are_refused_naming_what_they_are_and_what_is_taken(name, product):
    with pytest.raises(UnsupportedProduct) as refused:
        formats.recognise(header_of(name), source=name)
    message = str(refused.value)
    assert product in message and "which the lake does not take" in message
    for fmt in formats.FORMATS:
        assert fmt.title in message  # what the lake takes, each with an example header


def test_a_header_matching_nothing_names_the_closest_format_and_what_differs():
    header = header_of("movement_quoted.csv")
    header[5] = "Mean Travel Time (Minutes)"
    with pytest.raises(MissingColumns) as refused:
        formats.recognise(header, source="q2.csv")
    message = str(refused.value)
    assert 'Closest: the Movement "Travel Times" export' in message
    assert "'Mean Travel Time (Seconds)'" in message
    assert "'Mean Travel Time (Minutes)' instead" in message


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("AM Peak (7AM - 10AM)", "AM Peak"),
        ("AM", "AM Peak"),
        ("am  peak", "AM Peak"),
        ("Daily", "Daily Average"),
        ("Midday (10AM - 4PM)", "Midday"),
        ("PM Peak (4PM - 7PM)", "PM Peak"),
        ("Evening", "Evening"),
        ("Early Morning (12AM - 7AM)", "Early Morning"),
        ("Breakfast", None),
    ],
)
def test_every_spelling_of_a_time_of_day_has_one_canonical_name(spelling, canonical):
    assert canonical_time_of_day(spelling) == canonical


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("Every day", "Every day"),
        ("everyday", "Every day"),
        ("Weekdays", "Weekdays"),
        ("weekend", "Weekends"),
        ("Monday", "Monday"),
        ("sun", "Sunday"),
        ("Holidays", None),
    ],
)
def test_every_spelling_of_the_days_has_one_canonical_name(spelling, canonical):
    assert canonical_day_type(spelling) == canonical


def test_every_format_can_be_declared_once_and_read_back_by_its_example_header():
    for fmt in formats.FORMATS:
        assert formats.recognise(fmt.example_header.split(",")).format is fmt
