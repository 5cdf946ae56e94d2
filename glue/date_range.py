"""`Date Range` parsed in Spark exactly as `contract.values.parse_date_range` parses it in Python,
as column expressions (no Python UDF).

Java regexes cost a few microseconds a row, the largest single cost of the job. Nearly every
value is written the canonical way (`6/1/2019 - 6/30/2019, Weekdays, Daily Average`): those are
recognised by cutting the value at its separators and checking that the pieces, written back
canonically, give the value again. Anything else (padding, other spacing, no trailing parts,
garbage) goes through the contract's own pattern. Both paths give the same answer; the tests
compare them with the Python parser value by value."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from contract.values import DATE_RANGE_PATTERN

# (?d): `$` then only skips a final "\n", as Python's does; Java would also skip "\r", U+2028...
# The trailing (?s:.*) takes that "\n" too, so that a match replaces the whole value.
_PATTERN = "(?d)(?:" + DATE_RANGE_PATTERN + ")(?s:.*)"
# The 8 groups joined by ",", which none of them can hold (day type and time of day have none).
_GROUPS = ",".join(f"${i}" for i in range(1, 9))


@dataclass(frozen=True)
class DateRangeColumns:
    valid: Column  # false (never null) unless the value parses and starts on or before it ends
    start_date: Column
    end_date: Column
    day_type: Column  # null when absent
    time_of_day: Column


def _numbers(date: Column) -> list[Column]:
    """Month, day, year of `M/D/YYYY`, as ints."""
    return [
        F.substring_index(F.substring_index(date, "/", i), "/", -1).cast("int") for i in (1, 2, 3)
    ]


def _written_plainly(numbers: list[Column]) -> Column:
    """`M/D/YYYY` written back from its numbers: no padding, no sign, no space."""
    month, day, year = (n.cast("string") for n in numbers)
    return F.concat(month, F.lit("/"), day, F.lit("/"), year)


def _plain_part(part: Column) -> Column:
    # What the pattern's `([^,]*[^, \t])` captures after `,[ \t]*`: no comma, no edge space/tab.
    return (part != "") & ~part.contains(",") & (F.btrim(part, F.lit(" \t")) == part)


def date_range_columns(value: Column) -> DateRangeColumns:
    """The parsed parts of a `Date Range` column; the dates are null for an invalid value."""
    # Canonical path: cut at the separators, then check the value is written back exactly.
    dates = F.substring_index(value, ", ", 1)
    day_type = F.substring_index(F.substring_index(value, ", ", 2), ", ", -1)
    time_of_day = F.substring_index(value, ", ", -1)
    start = _numbers(F.substring_index(dates, " - ", 1))
    end = _numbers(F.substring_index(dates, " - ", -1))
    rewritten = F.concat(
        _written_plainly(start),
        F.lit(" - "),
        _written_plainly(end),
        F.lit(", "),
        day_type,
        F.lit(", "),
        time_of_day,
    )
    canonical = F.coalesce(
        (rewritten == value)
        & _plain_part(day_type)
        & _plain_part(time_of_day)
        & (start[0] < 100)
        & (start[1] < 100)
        & (end[0] < 100)
        & (end[1] < 100)
        & start[2].between(1000, 9999)
        & end[2].between(1000, 9999),
        F.lit(False),
    )

    # Any other value: the contract's pattern. A match becomes its 8 groups joined by ",", a
    # value that does not match comes back unchanged (and always differs from the groups).
    groups_text = F.regexp_replace(value, _PATTERN, _GROUPS)
    groups = F.split(groups_text, ",")
    matched = F.coalesce(groups_text != value, F.lit(False))

    def number(i: int) -> Column:
        fast = (start + end)[i]
        return F.when(canonical, fast).otherwise(groups.getItem(i).cast("int"))

    def part(fast: Column, i: int) -> Column:
        slow = groups.getItem(i)
        return F.when(canonical, fast).when(matched & (slow != ""), slow)

    def date(year: Column, month: Column, day: Column) -> Column:
        # Null for a day that does not exist: make_date does that (non-ANSI, as the job runs),
        # except for year 0, which Java has and Python does not.
        return F.when(year >= 1, F.make_date(year, month, day))

    start_date = date(number(2), number(0), number(1))
    end_date = date(number(5), number(3), number(4))
    return DateRangeColumns(
        valid=(canonical | matched) & F.coalesce(start_date <= end_date, F.lit(False)),
        start_date=start_date,
        end_date=end_date,
        day_type=part(day_type, 6),
        time_of_day=part(time_of_day, 7),
    )
