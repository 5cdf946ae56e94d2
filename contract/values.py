"""Rules for the values of one logical row (the fields of `contract.columns`, as every format's
declaration maps its columns to them). The patterns are plain strings so that the Glue job
applies the very same rules in Spark (Java regex) that the validator and the tests apply in
Python; `glue/` compares the two value by value in its tests."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contract import columns as c
from contract.errors import InvalidDateRange
from contract.periods import canonical_day_type, canonical_time_of_day

# `M/D/YYYY - M/D/YYYY`, then at most two trailing parts `, <part>` (the days and/or the time of
# day, in the order the export wrote them). [0-9] and [ \t] rather than \d and \s so that
# Python's and Java's regex engines agree (Python's \d also matches non-ASCII digits).
# Groups: 1-3 start month/day/year, 4-6 end month/day/year, 7 and 8 the trailing parts.
_PART = r"(?:,[ \t]*([^,]*[^, \t])[ \t]*)?"
DATE_RANGE_PATTERN = (
    r"^[ \t]*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ \t]*-[ \t]*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"
    rf"[ \t]*{_PART}{_PART}$"
)
# The daily export's `Date`: one `M/D/YYYY`.
DATE_PATTERN = r"^[ \t]*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ \t]*$"
MIN_YEAR, MAX_YEAR = 1900, 2100
MOVEMENT_ID_PATTERN = r"^[0-9]{1,19}$"  # positive is checked after the cast (bigint range)
TRAVEL_TIME_PATTERN = (
    r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"  # non-negative decimal, no sign/exponent
)
MAX_BIGINT = 2**63 - 1

_DATE_RANGE = re.compile(DATE_RANGE_PATTERN)
_DATE = re.compile(DATE_PATTERN)
_MOVEMENT_ID = re.compile(MOVEMENT_ID_PATTERN)
_TRAVEL_TIME = re.compile(TRAVEL_TIME_PATTERN)

BOM = "\ufeff"
# The characters str.strip() removes (Python's whitespace, all below U+3001), spelled out so that
# the Glue job trims exactly the same ones in Spark.
WHITESPACE = "".join(chr(i) for i in range(0x3001) if chr(i).isspace())

_RANGE_HELP = (
    "'M/D/YYYY - M/D/YYYY' optionally followed by ', <days>' and/or ', <time of day>' "
    "(e.g. '6/1/2019 - 6/30/2019, Weekdays, AM Peak (7AM - 10AM)')"
)


@dataclass(frozen=True)
class DateRange:
    start_date: dt.date
    end_date: dt.date
    day_type: str | None  # canonical (contract.periods)
    time_of_day: str | None  # canonical


def _date(text: str, year: str, month: str, day: str) -> dt.date:
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError as e:
        raise InvalidDateRange(f"date range {text!r} names a day that does not exist: {e}") from e
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        raise InvalidDateRange(
            f"date range {text!r}: year {date.year} is outside {MIN_YEAR}..{MAX_YEAR}"
        )
    return date


def parse_date_range(text: str) -> DateRange:
    """Parse a `Date Range` value, or raise InvalidDateRange saying what is wrong. Each trailing
    part names the days or the time of day, in any spelling `contract.periods` knows."""
    match = _DATE_RANGE.fullmatch(text or "")
    if not match:
        raise InvalidDateRange(f"date range {text!r} is not {_RANGE_HELP}")
    g = match.groups()
    start = _date(text, g[2], g[0], g[1])
    end = _date(text, g[5], g[3], g[4])
    if start > end:
        raise InvalidDateRange(f"date range {text!r} starts after it ends")
    day_type = time_of_day = None
    for part in (g[6], g[7]):
        if part is None:
            continue
        day, time = canonical_day_type(part), canonical_time_of_day(part)
        if day and day_type is None:
            day_type = day
        elif time and time_of_day is None:
            time_of_day = time
        else:
            raise InvalidDateRange(
                f"date range {text!r}: {part!r} names neither days (Every day, Weekdays, "
                "Weekends, a day of the week) nor a time of day (Daily Average, AM Peak, Midday, "
                "PM Peak, Evening, Early Morning), or names one twice"
            )
    return DateRange(start, end, day_type, time_of_day)


def parse_date(text: str) -> DateRange:
    """Parse the daily export's `Date` (`M/D/YYYY`): a range of that one day."""
    match = _DATE.fullmatch(text or "")
    if not match:
        raise InvalidDateRange(f"date {text!r} is not 'M/D/YYYY' (e.g. '12/1/2019')")
    month, day, year = match.groups()
    date = _date(text, year, month, day)
    return DateRange(date, date, None, None)


def is_movement_id(text: str | None) -> bool:
    value = (text or "").strip()
    return bool(_MOVEMENT_ID.match(value)) and 0 < int(value) <= MAX_BIGINT


def is_travel_time(text: str | None) -> bool:
    """A finite non-negative decimal (a 400-digit integer is not finite as a double)."""
    value = (text or "").strip()
    return bool(_TRAVEL_TIME.match(value)) and math.isfinite(float(value))


def row_periods(row: Mapping[str, str | None], single_date: bool = False) -> DateRange:
    """The row's dates and canonical period names: from its Date Range (or daily Date), with a
    Day Of Week or Time Of Day column (when the format has one) naming its part. Raises
    InvalidDateRange."""
    text = row.get(c.DATE_RANGE) or ""
    parsed = parse_date(text) if single_date else parse_date_range(text)
    day_type, time_of_day = parsed.day_type, parsed.time_of_day
    if c.DAY_OF_WEEK in row:
        day_type = canonical_day_type(row[c.DAY_OF_WEEK])
        if day_type is None:
            raise InvalidDateRange(f"day of week {row[c.DAY_OF_WEEK]!r} is not a day's name")
    if c.PERIOD in row:
        time_of_day = canonical_time_of_day(row[c.PERIOD])
        if time_of_day is None:
            raise InvalidDateRange(f"time of day {row[c.PERIOD]!r} is not a period's name")
    return DateRange(parsed.start_date, parsed.end_date, day_type, time_of_day)


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def reject_reason(row: Mapping[str, str | None], single_date: bool = False) -> str | None:
    """What the contract says of one logical row (`row` maps contract.columns fields to the raw
    text; fields the format has not are absent): a reject reason, `no_measurement` (an empty
    mean, everything else valid), or None for a valid row. Malformed rows (wrong field count)
    are detected by the reader."""
    required = [*c.REQUIRED_VALUES, *(f for f in (c.DAY_OF_WEEK, c.PERIOD) if f in row)]
    if any(_blank(row.get(name)) for name in required):
        return c.MISSING_FIELD
    if not all(is_movement_id(row.get(name)) for name in c.MOVEMENT_ID_COLUMNS):
        return c.BAD_MOVEMENT_ID
    try:
        row_periods(row, single_date)
    except InvalidDateRange:
        return c.BAD_DATE_RANGE
    for name in c.NUMBER_COLUMNS:
        value = row.get(name)
        if not _blank(value) and not is_travel_time(value):
            return c.BAD_TRAVEL_TIME
    return c.NO_MEASUREMENT if _blank(row.get(c.MEAN_TRAVEL_TIME)) else None


def clean_header(fields: Sequence[str]) -> list[str]:
    """Header names as written, the byte-order mark removed and surrounding spaces trimmed."""
    cleaned = [f.strip() for f in fields]
    if cleaned:
        cleaned[0] = cleaned[0].removeprefix(BOM).strip()
    return cleaned
