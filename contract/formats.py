"""The export formats the lake accepts, each declared once: its header signature, how its
columns map to the fields of a logical row (`contract.columns`), and how it yields dates and
periods. The validator recognises a file's format from its header with `recognise`, the Glue job
reads the file through the same declaration, and the generator writes it. A new format is a new
declaration here (and a test), not edits in five places.

Also here: the Movement products that are recognised but not accepted, so that such a file is
told what it is and what the lake takes, never a bare "missing column"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from contract import columns as c
from contract.errors import MissingColumns, UnsupportedProduct
from contract.values import clean_header

# The Movement "Travel Times" export's header names (shared by the Day Of Week and Time Of Day
# exports, which add one first column).
MOVEMENT_COLUMNS: dict[str, str] = {
    c.ORIGIN_ID: "Origin Movement ID",
    c.ORIGIN_NAME: "Origin Display Name",
    c.DESTINATION_ID: "Destination Movement ID",
    c.DESTINATION_NAME: "Destination Display Name",
    c.DATE_RANGE: "Date Range",
    c.MEAN_TRAVEL_TIME: "Mean Travel Time (Seconds)",
    c.LOWER_TRAVEL_TIME: "Range - Lower Bound Travel Time (Seconds)",
    c.UPPER_TRAVEL_TIME: "Range - Upper Bound Travel Time (Seconds)",
}


@dataclass(frozen=True)
class Period:
    """One period of the daily export: its three columns, and the time of day it names."""

    name: str  # as the header writes it: "AM"
    time_of_day: str  # canonical: "AM Peak"

    @property
    def columns(self) -> dict[str, str]:
        """Logical field -> header name of this period's mean and bounds."""
        return {
            c.MEAN_TRAVEL_TIME: f"{self.name} Mean Travel Time (Seconds)",
            c.LOWER_TRAVEL_TIME: f"{self.name} Range - Lower Bound Travel Time (Seconds)",
            c.UPPER_TRAVEL_TIME: f"{self.name} Range - Upper Bound Travel Time (Seconds)",
        }


@dataclass(frozen=True)
class ExportFormat:
    """An accepted export format. `columns` (required) and `optional` map logical fields to the
    header names that hold them; `periods`, for a format with one set of columns per period,
    unpivots each data row into one logical row per period; `single_date` says the date field
    is one `M/D/YYYY` rather than a Date Range."""

    name: str  # the table's `source_format`
    title: str
    columns: Mapping[str, str]
    optional: Mapping[str, str] = field(default_factory=dict)
    periods: tuple[Period, ...] = ()
    single_date: bool = False

    @property
    def required_headers(self) -> list[str]:
        """Every header name a file of this format must have, in the export's order."""
        names = list(self.columns.values())
        for period in self.periods:
            names += list(period.columns.values())
        return names

    @property
    def example_header(self) -> str:
        return ",".join(self.required_headers)

    def fields(self) -> tuple[str, ...]:
        """The logical fields one of its rows has (after unpivoting)."""
        own = [*self.columns, *self.optional]
        if self.periods:
            own += [*Period("", "").columns, c.PERIOD]
        return tuple(dict.fromkeys(own))


TRAVEL_TIMES = ExportFormat(
    name="movement_travel_times",
    title='Movement "Travel Times" export',
    columns=MOVEMENT_COLUMNS,
    optional={c.TRAVEL_DISTANCE: "TravelDistance (meters)"},
)
DATA_WORLD = ExportFormat(
    name="data_world_snake_case",
    title='data.world / "Loka challenge" copy (snake_case)',
    columns={
        c.ORIGIN_ID: "origin_movement_id",
        c.ORIGIN_NAME: "origin_display_name",
        c.DESTINATION_ID: "destination_movement_id",
        c.DESTINATION_NAME: "destination_display_name",
        c.DATE_RANGE: "date_range",
        c.MEAN_TRAVEL_TIME: "mean_travel_time_seconds",
        c.LOWER_TRAVEL_TIME: "range_lower_bound_travel_time_seconds",
        c.UPPER_TRAVEL_TIME: "range_upper_bound_travel_time_seconds",
    },
    optional={c.CITY: "city"},  # its geometry columns are ignored like any other extra
)
DAILY = ExportFormat(
    name="movement_travel_times_daily",
    title='Movement "Travel Times Daily" export',
    columns={
        c.DATE_RANGE: "Date",
        **{f: MOVEMENT_COLUMNS[f] for f in list(MOVEMENT_COLUMNS)[:4]},  # ids and names
    },
    periods=(
        Period("Daily", "Daily Average"),
        Period("AM", "AM Peak"),
        Period("PM", "PM Peak"),
        Period("Midday", "Midday"),
        Period("Evening", "Evening"),
        Period("Early Morning", "Early Morning"),
    ),
    single_date=True,
)
DAY_OF_WEEK = ExportFormat(
    name="movement_day_of_week",
    title='Movement "Day Of Week" export',
    columns={c.DAY_OF_WEEK: "Day Of Week", **MOVEMENT_COLUMNS},
)
TIME_OF_DAY = ExportFormat(
    name="movement_time_of_day",
    title='Movement "Time Of Day" export',
    columns={c.PERIOD: "Time Of Day", **MOVEMENT_COLUMNS},
)
# Most specific first: a header matching several formats is the one with the most columns.
FORMATS: tuple[ExportFormat, ...] = (DAILY, DAY_OF_WEEK, TIME_OF_DAY, TRAVEL_TIMES, DATA_WORLD)


@dataclass(frozen=True)
class Product:
    """A Movement product the lake recognises and does not take."""

    title: str
    signatures: tuple[frozenset[str], ...]  # any one of these header sets identifies it
    why: str


NOT_ACCEPTED: tuple[Product, ...] = (
    Product(
        'Movement "comparison" export',
        (frozenset({"baseline date range", "comparison date range"}),),
        "it compares two date ranges instead of giving one row per zone pair and range",
    ),
    Product(
        "Movement bulk aggregate (sourceid, dstid, hod/dow/month)",
        tuple(frozenset({"sourceid", "dstid", kind}) for kind in ("hod", "dow", "month")),
        "it is the bulk download keyed by hour, day of week or month, without Date Ranges",
    ),
    Product(
        "Movement speeds data (segment speeds)",
        (frozenset({"segment_id", "speed_mph_mean"}), frozenset({"osm_way_id", "speed_mph_mean"})),
        "it holds street-segment speeds, not zone-to-zone travel times",
    ),
)


def header_key(name: str) -> str:
    """A header name as headers are compared: surrounding spaces and quotes trimmed, runs of
    spaces made one, case ignored."""
    return " ".join(name.strip().strip('"').split()).casefold()


@dataclass(frozen=True)
class Recognised:
    """A header read as an accepted format: which, and the position of each logical field's
    column (`period_positions` per period for the daily export)."""

    format: ExportFormat
    positions: dict[str, int]
    period_positions: tuple[dict[str, int], ...] = ()


def _positions(keys: dict[str, int], names: Mapping[str, str]) -> dict[str, int] | None:
    found = {f: keys.get(header_key(h)) for f, h in names.items()}
    return None if None in found.values() else found  # type: ignore[return-value]


def recognise(header: Sequence[str], source: str = "the file") -> Recognised:
    """The accepted format a header declares, with its columns' positions. Raises
    UnsupportedProduct for a recognised Movement product the lake does not take, and
    MissingColumns (naming the closest format and the columns that differ) for anything else."""
    cleaned = clean_header(header)
    keys: dict[str, int] = {}
    for position, name in enumerate(cleaned):
        keys.setdefault(header_key(name), position)
    for fmt in FORMATS:
        positions = _positions(keys, fmt.columns)
        periods = [_positions(keys, p.columns) for p in fmt.periods]
        if positions is None or None in periods:
            continue
        for optional_field, name in fmt.optional.items():
            if header_key(name) in keys:
                positions[optional_field] = keys[header_key(name)]
        return Recognised(fmt, positions, tuple(periods))  # type: ignore[arg-type]
    accepted = "; ".join(f"{f.title} ({f.example_header})" for f in FORMATS)
    for product in NOT_ACCEPTED:
        if any(signature <= set(keys) for signature in product.signatures):
            raise UnsupportedProduct(
                f"{source} is a {product.title}, which the lake does not take: {product.why}. "
                f"The lake takes these travel-times exports: {accepted}."
            )
    closest = min(  # the fewest columns missing, then the most matched
        FORMATS,
        key=lambda f: (
            sum(header_key(h) not in keys for h in f.required_headers),
            -sum(header_key(h) in keys for h in f.required_headers),
        ),
    )
    missing = [h for h in closest.required_headers if header_key(h) not in keys]
    expected = {header_key(h) for h in closest.required_headers}
    extra = [name for name in cleaned if header_key(name) not in expected]
    raise MissingColumns(
        f"{source}'s header matches no accepted format. Closest: the {closest.title}, which "
        f"also needs {', '.join(repr(m) for m in missing)}"
        + (f" (the file has {', '.join(repr(x) for x in extra[:8])} instead)" if extra else "")
        + f". The lake takes: {accepted}. Columns may come in any order; extra ones are ignored."
    )


def logical_rows(recognised: Recognised, values: Sequence[str]) -> list[dict[str, str]]:
    """The logical rows of one data row (one per period for the daily export), each mapping the
    format's fields to the row's text. `values` must have the header's field count."""
    base = {name: values[i] for name, i in recognised.positions.items()}
    if not recognised.format.periods:
        return [base]
    return [
        {**base, **{name: values[i] for name, i in positions.items()}, c.PERIOD: period.name}
        for period, positions in zip(
            recognised.format.periods, recognised.period_positions, strict=True
        )
    ]
