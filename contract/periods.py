"""The canonical names of a row's period: `time_of_day` (the window of the day) and `day_type`
(which days), whatever spelling of them an export used (`AM Peak (7AM - 10AM)`, `AM`,
`AM Peak`; `Every day`, `Everyday`). The text as written stays in `date_range`.

A spelling is looked up as written first, then in its normal form: without a trailing
parenthesis (`(7AM - 10AM)`), lowercase, single spaces. The Glue job applies the same tables and
the same normal form in Spark (`NORMAL_FORM_PATTERN`), so Python and Spark agree value by value."""

from __future__ import annotations

import re

# Uber's windows (Movement's documentation): AM Peak 7-10 AM, Midday 10 AM-4 PM, PM Peak
# 4-7 PM, Evening 7 PM-12 AM, Early Morning 12-7 AM.
TIMES_OF_DAY: tuple[str, ...] = (
    "Daily Average",
    "AM Peak",
    "Midday",
    "PM Peak",
    "Evening",
    "Early Morning",
)
WEEKDAYS: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
DAY_TYPES: tuple[str, ...] = ("Every day", "Weekdays", "Weekends", *WEEKDAYS)

# Normal form -> canonical name: every spelling the exports are known to use.
_TIME_SPELLINGS = {
    "daily average": "Daily Average",
    "daily": "Daily Average",  # the Travel Times Daily export's period name
    "am peak": "AM Peak",
    "am": "AM Peak",
    "midday": "Midday",
    "mid day": "Midday",
    "pm peak": "PM Peak",
    "pm": "PM Peak",
    "evening": "Evening",
    "early morning": "Early Morning",
}
_DAY_SPELLINGS = {
    "every day": "Every day",
    "everyday": "Every day",
    "all days": "Every day",
    "weekdays": "Weekdays",
    "weekday": "Weekdays",
    "weekends": "Weekends",
    "weekend": "Weekends",
    **{day.lower(): day for day in WEEKDAYS},
    **{day[:3].lower(): day for day in WEEKDAYS},
}
# Canonical names and the full spellings Movement writes, as written: the fast path.
TIME_OF_DAY_AS_WRITTEN: dict[str, str] = {
    **{name: name for name in TIMES_OF_DAY},
    "AM Peak (7AM - 10AM)": "AM Peak",
    "Midday (10AM - 4PM)": "Midday",
    "PM Peak (4PM - 7PM)": "PM Peak",
    "Evening (7PM - 12AM)": "Evening",
    "Early Morning (12AM - 7AM)": "Early Morning",
    "Daily": "Daily Average",
    "AM": "AM Peak",
    "PM": "PM Peak",
}
DAY_TYPE_AS_WRITTEN: dict[str, str] = {name: name for name in DAY_TYPES}
TIME_OF_DAY_NORMAL: dict[str, str] = dict(_TIME_SPELLINGS)
DAY_TYPE_NORMAL: dict[str, str] = dict(_DAY_SPELLINGS)

# The normal form: a trailing "(...)" dropped, then runs of spaces/tabs made one space and the
# ends trimmed, then lowercase. [ \t] rather than \s so that Python's and Java's regexes agree.
NORMAL_FORM_PATTERN = r"[ \t]*\([^()]*\)[ \t]*$"
_TRAILING_PARENTHESIS = re.compile(NORMAL_FORM_PATTERN)
_SPACES = re.compile(r"[ \t]+")


def normal_form(text: str) -> str:
    """`text` in the normal form the spelling tables are keyed by."""
    return _SPACES.sub(" ", _TRAILING_PARENTHESIS.sub("", text)).strip(" \t").lower()


def canonical_time_of_day(text: str | None) -> str | None:
    """The canonical time of day a spelling names, or None when it names none."""
    if text is None:
        return None
    return TIME_OF_DAY_AS_WRITTEN.get(text) or TIME_OF_DAY_NORMAL.get(normal_form(text))


def canonical_day_type(text: str | None) -> str | None:
    """The canonical day type a spelling names, or None when it names none."""
    if text is None:
        return None
    return DAY_TYPE_AS_WRITTEN.get(text) or DAY_TYPE_NORMAL.get(normal_form(text))
