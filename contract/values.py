"""Rules for the values of one row. The patterns are plain strings so that the Glue job applies
the very same rules in Spark (Java regex) that the validator and tests apply in Python."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contract import columns as c
from contract.errors import InvalidDateRange, MissingColumns

# `M/D/YYYY - M/D/YYYY`, optionally `, <days>, <time of day>`. [0-9] and [ \t] rather than \d and
# \s so that Python's and Java's regex engines agree (Python's \d also matches non-ASCII digits).
# Groups: 1-3 start month/day/year, 4-6 end month/day/year, 7 day type, 8 time of day.
DATE_RANGE_PATTERN = (
    r"^[ \t]*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})[ \t]*-[ \t]*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"
    r"[ \t]*(?:,[ \t]*([^,]*[^, \t])[ \t]*,[ \t]*([^,]*[^, \t])[ \t]*)?$"
)
MOVEMENT_ID_PATTERN = r"^[0-9]{1,19}$"  # positive is checked after the cast (bigint range)
TRAVEL_TIME_PATTERN = (
    r"^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"  # non-negative decimal, no sign/exponent
)
MAX_BIGINT = 2**63 - 1

_DATE_RANGE = re.compile(DATE_RANGE_PATTERN)
_MOVEMENT_ID = re.compile(MOVEMENT_ID_PATTERN)
_TRAVEL_TIME = re.compile(TRAVEL_TIME_PATTERN)

BOM = "\ufeff"
# The characters str.strip() removes (Python's whitespace, all below U+3001), spelled out so that
# the Glue job trims exactly the same ones in Spark.
WHITESPACE = "".join(chr(i) for i in range(0x3001) if chr(i).isspace())


@dataclass(frozen=True)
class DateRange:
    start_date: dt.date
    end_date: dt.date
    day_type: str | None
    time_of_day: str | None


def parse_date_range(text: str) -> DateRange:
    """Parse a `Date Range` value, or raise InvalidDateRange saying what is wrong."""
    match = _DATE_RANGE.match(text or "")
    if not match:
        raise InvalidDateRange(
            f"date range {text!r} is not 'M/D/YYYY - M/D/YYYY' optionally followed by "
            "', <days>, <time of day>' (e.g. '6/1/2019 - 6/30/2019, Weekdays, Daily Average')"
        )
    g = match.groups()
    try:
        start = dt.date(int(g[2]), int(g[0]), int(g[1]))
        end = dt.date(int(g[5]), int(g[3]), int(g[4]))
    except ValueError as e:
        raise InvalidDateRange(f"date range {text!r} names a day that does not exist: {e}") from e
    if start > end:
        raise InvalidDateRange(f"date range {text!r} starts after it ends")
    return DateRange(start, end, g[6], g[7])


def is_movement_id(text: str | None) -> bool:
    value = (text or "").strip()
    return bool(_MOVEMENT_ID.match(value)) and 0 < int(value) <= MAX_BIGINT


def is_travel_time(text: str | None) -> bool:
    return bool(_TRAVEL_TIME.match((text or "").strip()))


def reject_reason(row: Mapping[str, str | None]) -> str | None:
    """The contract's reason to set a row aside (None when it is valid). `row` maps the source
    column names to raw values; malformed rows (wrong field count) are detected by the reader."""
    if any(not (row.get(name) or "").strip() for name in c.REQUIRED_VALUES):
        return c.MISSING_FIELD
    if not all(is_movement_id(row.get(name)) for name in c.MOVEMENT_ID_COLUMNS):
        return c.BAD_MOVEMENT_ID
    try:
        parse_date_range(row[c.DATE_RANGE] or "")
    except InvalidDateRange:
        return c.BAD_DATE_RANGE
    for name in c.TRAVEL_TIME_COLUMNS:
        value = (row.get(name) or "").strip()
        if (value or name == c.MEAN_TRAVEL_TIME) and not is_travel_time(value):
            return c.BAD_TRAVEL_TIME
    return None


def clean_header(fields: Sequence[str]) -> list[str]:
    """Header names as compared: byte-order mark removed, surrounding spaces trimmed."""
    cleaned = [f.strip() for f in fields]
    if cleaned:
        cleaned[0] = cleaned[0].removeprefix(BOM).strip()
    return cleaned


def resolve_header(fields: Sequence[str], source: str = "the file") -> dict[str, int]:
    """Map each required source column to its position in the header, or raise MissingColumns."""
    cleaned = clean_header(fields)
    missing = [name for name in c.SOURCE_COLUMNS if name not in cleaned]
    if missing:
        raise MissingColumns(
            f"{source} lacks the required column(s) {', '.join(repr(m) for m in missing)}; its "
            f"header has {', '.join(repr(f) for f in cleaned) or 'no columns'}. The first line "
            f"must name these columns (any order, extra columns allowed): "
            f"{', '.join(c.SOURCE_COLUMNS)}."
        )
    return {name: cleaned.index(name) for name in c.SOURCE_COLUMNS}
