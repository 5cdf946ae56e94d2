"""How a generated row of each accepted format is laid out: its header (from the contract's
declaration), the pieces a good row is joined from, and a row that breaks exactly one rule.

A good row is a few precomputed, already CSV-quoted pieces joined by commas (a zone's
`id,"name"`, a date range, a `mean,lower,upper` triple), so that tens of millions of rows stream
quickly. A bad row is built from raw values, one of them broken, then quoted."""

from __future__ import annotations

import random
from dataclasses import dataclass

from contract import columns as c
from contract import formats as f

ORIGIN_GEOMETRY, DESTINATION_GEOMETRY = "origin_geometry", "destination_geometry"
# The Movement download's own geometry columns (WKT), as the first generator wrote them.
MOVEMENT_GEOMETRY = {
    ORIGIN_GEOMETRY: "Origin Geometry",
    DESTINATION_GEOMETRY: "Destination Geometry",
}


def csv_field(value: str) -> str:
    """One RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, quote or newline."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def quoted(value: str) -> str:
    """A field always quoted, as Movement writes its headers and ids (`"89"`)."""
    return '"' + value.replace('"', '""') + '"'


@dataclass(frozen=True)
class Layout:
    """The columns of a generated file of `export_format`, as logical fields (plus geometry) in
    the export's own order, and their header names."""

    export_format: f.ExportFormat
    fields: tuple[str, ...]  # one per column; daily periods as "<period>:<field>"
    names: tuple[str, ...]

    @property
    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.fields)}

    @property
    def logical_per_row(self) -> int:
        return len(self.export_format.periods) or 1


def layout_of(export_format: f.ExportFormat, geometry: bool, distance: bool) -> Layout:
    """The columns a generated file of this format has (the optional ones when asked for)."""
    fmt = export_format
    headers = {**fmt.columns, **fmt.optional}
    origin = [c.ORIGIN_ID, c.ORIGIN_NAME]
    destination = [c.DESTINATION_ID, c.DESTINATION_NAME]
    if geometry:
        origin.append(ORIGIN_GEOMETRY)
        destination.append(DESTINATION_GEOMETRY)
        headers.update(
            {ORIGIN_GEOMETRY: "origin_geometry", DESTINATION_GEOMETRY: "destination_geometry"}
            if fmt is f.DATA_WORLD
            else MOVEMENT_GEOMETRY
        )
    times = [c.MEAN_TRAVEL_TIME, c.LOWER_TRAVEL_TIME, c.UPPER_TRAVEL_TIME]
    if fmt is f.DAILY:
        fields = [c.DATE_RANGE, *origin, *destination]
        for period in fmt.periods:
            fields += [f"{period.name}:{name}" for name in times]
            headers.update({f"{period.name}:{k}": v for k, v in period.columns.items()})
    else:
        first = [name for name in (c.DAY_OF_WEEK, c.PERIOD) if name in fmt.columns]
        fields = [*first, *origin, *destination, c.DATE_RANGE, *times]
        if distance and c.TRAVEL_DISTANCE in fmt.optional:
            fields.append(c.TRAVEL_DISTANCE)
        if c.CITY in fmt.optional:
            fields.append(c.CITY)
    return Layout(fmt, tuple(fields), tuple(headers[name] for name in fields))


# Values that break exactly one rule each (see contract.values.reject_reason).
BAD_MOVEMENT_IDS = ("0", "-17", "abc", "12.5", "9223372036854775808", "1e3")
BAD_DATE_RANGES = (
    "not a date range",
    "6/30/2019 - 6/1/2019, Weekdays, Daily Average",  # starts after it ends
    "2/30/2019 - 3/5/2019, Every day, Daily Average",  # no such day
    "2019-06-01 - 2019-06-30, Weekdays, Daily Average",
    "13/1/2019 - 13/31/2019",
    "6/1/2019 - 6/30/2019, Weekdays, Holidays",  # a part that names no period
    "6/1/1850 - 6/30/1850, Weekdays, Daily Average",  # a year outside 1900..2100
)
BAD_DATES = ("2019-12-01", "12/32/2019", "13/1/2019", "1/1/2200", "not a date")
BAD_TRAVEL_TIMES = ("-5", "n/a", "1e3", "12:30", "-0.5", "1e400", "9" * 400)


def break_row(rng: random.Random, layout: Layout, values: list[str], reason: str) -> list[str]:
    """`values` (a good row's raw values) with exactly one rule broken for `reason` (for the
    daily export, a travel time breaks one period's row only; the other fields all six)."""
    at = layout.index
    values = list(values)
    periods = layout.export_format.periods
    if reason == c.MALFORMED_ROW:
        return values[:-1] if rng.random() < 0.5 else [*values, "extra"]
    if reason == c.MISSING_FIELD:
        values[at[rng.choice(c.REQUIRED_VALUES)]] = rng.choice(("", " ", "  "))
        return values
    if reason == c.BAD_MOVEMENT_ID:
        values[at[rng.choice(c.MOVEMENT_ID_COLUMNS)]] = rng.choice(BAD_MOVEMENT_IDS)
        return values
    if reason == c.BAD_DATE_RANGE:
        bad = BAD_DATES if layout.export_format.single_date else BAD_DATE_RANGES
        values[at[c.DATE_RANGE]] = rng.choice(bad)
        return values
    if reason == c.BAD_TRAVEL_TIME:
        name = rng.choice((c.MEAN_TRAVEL_TIME, c.LOWER_TRAVEL_TIME, c.UPPER_TRAVEL_TIME))
        if periods:  # one period's number: that period's row only
            name = f"{rng.choice(periods).name}:{name}"
        values[at[name]] = rng.choice(BAD_TRAVEL_TIMES)
        return values
    raise ValueError(f"unknown reject reason {reason!r}; expected one of {c.REJECT_REASONS}")


def join_row(values: list[str]) -> str:
    return ",".join(csv_field(v) for v in values) + "\n"
