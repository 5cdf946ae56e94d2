"""`Date Range` parsed in Spark exactly as `contract.values.parse_date_range` parses it in Python,
with built-in functions in a few projections (no Python UDF).

Java regexes cost a few microseconds a row, the largest single cost of the job. Nearly every
value is written the canonical way (`6/1/2019 - 6/30/2019, Weekdays, Daily Average`): those are
recognised by cutting the value at its separators and checking that the pieces, written back
canonically, give the value again. Anything else (padding, other spacing, no trailing parts,
garbage) goes through the contract's own pattern. Both paths give the same answer; the tests
compare them with the Python parser value by value."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from contract.values import DATE_RANGE_PATTERN

# (?d): `$` then only skips a final "\n", as Python's does; Java would also skip "\r", U+2028...
# The trailing (?s:.*) takes that "\n" too, so that a match replaces the whole value.
_PATTERN = "(?d)(?:" + DATE_RANGE_PATTERN + ")(?s:.*)"
# The 8 groups joined by ",", which none of them can hold (day type and time of day have none).
_GROUPS = ",".join(f"${i}" for i in range(1, 9))


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


# The columns `with_date_range` adds: dates null for an invalid value, parts null when absent,
# `date_range_valid` false (never null) unless the value parses and starts on or before it ends.
START_DATE, END_DATE, DAY_TYPE, TIME_OF_DAY, VALID = (
    "start_date",
    "end_date",
    "day_type",
    "time_of_day",
    "date_range_valid",
)
_PIECES = [f"_dr_{name}" for name in ("sm", "sd", "sy", "em", "ed", "ey")]  # M, D, Y of both
_DAY_TYPE, _TIME_OF_DAY, _CANONICAL, _GROUPS_TEXT = "_dr_dt", "_dr_tod", "_dr_canon", "_dr_groups"


def with_date_range(rows: DataFrame, column: str) -> DataFrame:
    """`rows` with the parsed parts of its `Date Range` column `column` (see the names above).

    Three projections, each using the previous one's results by name. Built as one expression,
    every use of a piece would be a copy of its whole tree: Catalyst then spent seconds
    optimizing each run, and Spark re-evaluated the copies wherever it could not share them."""
    value = F.col(f"`{column}`")
    dates = F.substring_index(value, ", ", 1)
    start = _numbers(F.substring_index(dates, " - ", 1))
    end = _numbers(F.substring_index(dates, " - ", -1))
    pieces = rows.select(
        "*",
        *(n.alias(name) for n, name in zip(start + end, _PIECES, strict=True)),
        F.substring_index(F.substring_index(value, ", ", 2), ", ", -1).alias(_DAY_TYPE),
        F.substring_index(value, ", ", -1).alias(_TIME_OF_DAY),
    )

    # Canonical path: the value is exactly its pieces written back.
    sm, sd, sy, em, ed, ey = (F.col(name) for name in _PIECES)
    day_type, time_of_day = F.col(_DAY_TYPE), F.col(_TIME_OF_DAY)
    rewritten = F.concat(
        _written_plainly([sm, sd, sy]),
        F.lit(" - "),
        _written_plainly([em, ed, ey]),
        F.lit(", "),
        day_type,
        F.lit(", "),
        time_of_day,
    )
    canonical = F.coalesce(
        (rewritten == value)
        & _plain_part(day_type)
        & _plain_part(time_of_day)
        & (sm < 100)
        & (sd < 100)
        & (em < 100)
        & (ed < 100)
        & sy.between(1000, 9999)
        & ey.between(1000, 9999),
        F.lit(False),
    )
    # Any other value: the contract's pattern. A match becomes its 8 groups joined by ",", a
    # value that does not match comes back unchanged (and always differs from the groups).
    checked = pieces.select(
        "*",
        canonical.alias(_CANONICAL),
        F.when(~canonical, F.regexp_replace(value, _PATTERN, _GROUPS)).alias(_GROUPS_TEXT),
    )

    is_canonical = F.col(_CANONICAL)
    groups_text = F.col(_GROUPS_TEXT)
    groups = F.split(groups_text, ",")
    matched = F.coalesce(groups_text != value, F.lit(False))

    def number(i: int) -> Column:
        return F.when(is_canonical, F.col(_PIECES[i])).otherwise(groups.getItem(i).cast("int"))

    def part(fast: Column, i: int) -> Column:
        slow = groups.getItem(i)
        return F.when(is_canonical, fast).when(matched & (slow != ""), slow)

    def date(year: Column, month: Column, day: Column) -> Column:
        # Null for a day that does not exist: make_date does that (non-ANSI, as the job runs),
        # except for year 0, which Java has and Python does not.
        return F.when(year >= 1, F.make_date(year, month, day))

    start_date = date(number(2), number(0), number(1))
    end_date = date(number(5), number(3), number(4))
    parsed = checked.select(
        "*",
        start_date.alias(START_DATE),
        end_date.alias(END_DATE),
        part(day_type, 6).alias(DAY_TYPE),
        part(time_of_day, 7).alias(TIME_OF_DAY),
    )
    valid = (is_canonical | matched) & F.coalesce(
        F.col(START_DATE) <= F.col(END_DATE), F.lit(False)
    )
    return parsed.select("*", valid.alias(VALID)).drop(
        *_PIECES, _DAY_TYPE, _TIME_OF_DAY, _CANONICAL, _GROUPS_TEXT
    )
