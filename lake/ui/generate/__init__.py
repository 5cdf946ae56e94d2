"""Synthetic Uber Movement travel-time exports that look like the real ones (`lake generate`,
whose command line is `lake.ui.generate_command`), in each format the lake accepts (the
contract's declarations: the Movement "Travel Times" export, the data.world snake_case copy,
the "Travel Times Daily", "Day Of Week" and "Time Of Day" exports).

Rows are streamed in fixed-size chunks (constant memory from 10 rows to tens of millions) from
precomputed, already CSV-quoted pieces (see `layouts`). The output depends only on the
arguments: the same seed gives the same bytes. Bad rows replace good ones at seeded positions,
spread evenly over the requested reasons, and each breaks exactly one rule of the contract, so
that a correct reader gives it that reason; the stats count them, like the rows without a
measurement and the exact duplicates, in the contract's logical rows.

A little over 350 lines because it is one thing: the generator, its precomputed pieces and the
writer of the rows; the cities and the layouts are modules of their own."""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import gzip as gzip_module
import io
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from contract import columns as c
from contract import formats as f
from contract.periods import TIMES_OF_DAY, WEEKDAYS
from contract.values import reject_reason
from lake.ui.generate.cities import CITIES, City, coordinates, display_name, generic_city, polygon
from lake.ui.generate.layouts import Layout, break_row, csv_field, join_row, layout_of, quoted

CHUNK_ROWS = 20_000
DEFAULT_ZONES = 1_000
DEFAULT_DATE_RANGES = 12
DAILY = "daily"
YEAR = 2019
DAILY_EMPTY_SHARE = 0.3  # the daily export leaves many periods without a measurement

DAY_TYPES = ("Every day", "Weekdays", "Weekends")
TIMES_AS_WRITTEN = (
    "Daily Average",
    "AM Peak (7AM - 10AM)",
    "Midday (10AM - 4PM)",
    "PM Peak (4PM - 7PM)",
    "Evening (7PM - 12AM)",
    "Early Morning (12AM - 7AM)",
)
# `lake generate --format NAME`: the contract's formats by a short name.
FORMATS: dict[str, f.ExportFormat] = {
    "movement": f.TRAVEL_TIMES,
    "data-world": f.DATA_WORLD,
    "daily": f.DAILY,
    "day-of-week": f.DAY_OF_WEEK,
    "time-of-day": f.TIME_OF_DAY,
}


@dataclass
class GenerateStats:
    """What `generate` wrote: data rows in total (duplicates included), and, in the contract's
    logical rows (one per period for the daily export), how many are bad by reason, have no
    measurement, and how many the table should hold."""

    path: Path
    rows: int
    export_format: str = f.TRAVEL_TIMES.name
    bad_rows: dict[str, int] = field(default_factory=dict)
    no_measurement: int = 0
    duplicate_rows: int = 0
    logical_rows: int = 0  # of the distinct rows
    bytes_written: int = 0
    seconds: float = 0.0

    @property
    def bad(self) -> int:
        return sum(self.bad_rows.values())

    @property
    def written(self) -> int:
        """The rows the table should hold: valid logical rows of the distinct data rows."""
        return self.logical_rows - self.bad - self.no_measurement


def _periods(year: int) -> list[tuple[dt.date, dt.date]]:
    months = [
        (dt.date(year, m, 1), dt.date(year, m, calendar.monthrange(year, m)[1]))
        for m in range(1, 13)
    ]
    quarters = [(months[q][0], months[q + 2][1]) for q in (0, 3, 6, 9)]
    first_monday = dt.date(year, 1, 1) + dt.timedelta(days=(7 - dt.date(year, 1, 1).weekday()) % 7)
    weeks = [
        (first_monday + dt.timedelta(weeks=w), first_monday + dt.timedelta(weeks=w, days=6))
        for w in range(52)
    ]
    return months + quarters + weeks


def date_range_values(date_ranges: int | str, rng: random.Random, year: int = YEAR) -> list[str]:
    """The distinct `Date Range` values of a file: `daily` gives one single-day range per day of
    `year`; a number N gives N realistic ranges (months, quarters, weeks; day types; times)."""
    if date_ranges == DAILY:
        days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(365)]
        return [
            f"{_us_date(d)} - {_us_date(d)}, {'Weekends' if d.weekday() >= 5 else 'Weekdays'}, "
            "Daily Average"
            for d in days
        ]
    count = int(date_ranges)
    catalog = [
        f"{_us_date(start)} - {_us_date(end)}, {days}, {time_of_day}"
        for start, end in _periods(year)
        for days in DAY_TYPES
        for time_of_day in TIMES_OF_DAY
    ]
    if not 1 <= count <= len(catalog):
        raise ValueError(f"date_ranges must be 'daily' or 1 to {len(catalog)}, got {date_ranges!r}")
    # The catalogue is ordered by period: a seeded sample mixes months, quarters and weeks.
    return sorted(rng.sample(catalog, count), key=catalog.index)


def _travel_times(rng: random.Random, count: int) -> list[str]:
    """`mean,lower,upper` field triples with lower <= mean <= upper; some bounds empty."""
    result = []
    for _ in range(count):
        mean = rng.lognormvariate(7.0, 0.6)  # about 18 minutes, a long right tail
        lower = mean * rng.uniform(0.55, 0.95)
        upper = mean * rng.uniform(1.05, 1.8)
        if rng.random() < 0.9:
            values = [f"{round(mean)}", f"{round(lower)}", f"{round(upper)}"]
        else:
            values = [f"{mean:.2f}", f"{lower:.2f}", f"{upper:.2f}"]
        kind = rng.random()
        if kind < 0.03:
            values[1] = values[2] = ""
        elif kind < 0.05:
            values[2] = ""
        result.append(",".join(values))
    return result


def _us_date(day: dt.date, padded: bool = False) -> str:
    return (
        f"{day.month:02d}/{day.day:02d}/{day.year}"
        if padded
        else f"{day.month}/{day.day}/{day.year}"
    )


class _Pieces:
    """The precomputed values a file's rows are drawn from, raw and CSV-quoted: a row is drawn as
    indexes into them (`draw`), then written from the quoted text (`text`) or, to be broken,
    from the raw values (`values`)."""

    def __init__(
        self,
        rng: random.Random,
        layout: Layout,
        city: City,
        zones: int,
        date_ranges: int | str,
        empty_means: float,
    ) -> None:
        fmt = self.format = layout.export_format
        geometry = any(name.endswith("geometry") for name in layout.fields)
        outline = coordinates if fmt is f.DATA_WORLD else polygon
        self.zones = [
            [str(z), display_name(rng, city, z)] + ([outline(rng, city)] if geometry else [])
            for z in range(1, zones + 1)
        ]
        # Movement quotes every field of its downloads; the data.world copy quotes when needed.
        self.field_text = quoted if fmt in (f.DAY_OF_WEEK, f.TIME_OF_DAY) else csv_field
        self.zone_text = [",".join(self.field_text(v) for v in zone) for zone in self.zones]
        self.ranges = self._ranges(rng, fmt, date_ranges)
        self.range_text = [self.field_text(r) for r in self.ranges]
        self.times = [t.split(",") for t in _travel_times(rng, 4096)]
        self.times_text = [",".join(t) for t in self.times]
        self.first = (
            WEEKDAYS if fmt is f.DAY_OF_WEEK else TIMES_OF_DAY if fmt is f.TIME_OF_DAY else ()
        )
        self.first_text = [self.field_text(v) for v in self.first]
        self.periods = len(fmt.periods)
        self.empty_means = empty_means
        self.distance = [str(rng.randrange(800, 40_000)) for _ in range(512)]
        self.tail = [
            *([None] if c.TRAVEL_DISTANCE in layout.fields else []),
            *([city.name.lower()] if c.CITY in layout.fields else []),
        ]

    @staticmethod
    def _ranges(rng: random.Random, fmt: f.ExportFormat, date_ranges: int | str) -> list[str]:
        if fmt is f.DAILY:
            days = [dt.date(YEAR, 12, 1) + dt.timedelta(days=i) for i in range(31)]
            return [_us_date(day, padded=True) for day in days]
        ranges = date_range_values(date_ranges, rng)
        if fmt is f.DATA_WORLD:  # its copies pad the dates: 09/03/2016 - 10/01/2016
            ranges = [_padded(r) for r in ranges]
        if fmt in (f.DAY_OF_WEEK, f.TIME_OF_DAY):  # one trailing part: the other is a column
            keep = 2 if fmt is f.DAY_OF_WEEK else 1
            ranges = sorted({f"{r.split(', ')[0]}, {r.split(', ')[keep]}" for r in ranges})
        return ranges

    def _times(self, rng: random.Random) -> int:
        """A `mean,lower,upper` triple's index, or -1 for a cell without a measurement."""
        if self.empty_means and rng.random() < self.empty_means:
            return -1
        return rng.randrange(len(self.times))

    def draw(self, rng: random.Random) -> tuple:
        """One row as indexes: (first column, origin, destination, date, times..., distance)."""
        zones, ranges = len(self.zones), len(self.ranges)
        first = rng.randrange(len(self.first)) if self.first else None
        times = [self._times(rng) for _ in range(self.periods or 1)]
        distance = rng.randrange(len(self.distance)) if self.tail and self.tail[0] is None else 0
        return (
            first,
            rng.randrange(zones),
            rng.randrange(zones),
            rng.randrange(ranges),
            times,
            distance,
        )

    def text(self, draw: tuple) -> str:
        first, origin, destination, date, times, distance = draw
        cells = [self.times_text[t] if t >= 0 else ",," for t in times]
        if self.format is f.DAILY:
            parts = [self.range_text[date], self.zone_text[origin], self.zone_text[destination]]
            return ",".join([*parts, *cells]) + "\n"
        parts = [] if first is None else [self.first_text[first]]
        parts += [self.zone_text[origin], self.zone_text[destination], self.range_text[date]]
        tail = [self.distance[distance] if v is None else csv_field(v) for v in self.tail]
        return ",".join([*parts, *cells, *tail]) + "\n"

    def values(self, draw: tuple) -> list[str]:
        first, origin, destination, date, times, distance = draw
        cells = [v for t in times for v in (self.times[t] if t >= 0 else ["", "", ""])]
        if self.format is f.DAILY:
            return [self.ranges[date], *self.zones[origin], *self.zones[destination], *cells]
        head = [] if first is None else [self.first[first]]
        tail = [self.distance[distance] if v is None else v for v in self.tail]
        return [
            *head,
            *self.zones[origin],
            *self.zones[destination],
            self.ranges[date],
            *cells,
            *tail,
        ]


def _padded(date_range: str) -> str:
    dates, _, rest = date_range.partition(", ")
    padded = " - ".join(
        "/".join(part.zfill(2) if len(part) < 4 else part for part in d.split("/"))
        for d in dates.split(" - ")
    )
    return f"{padded}, {rest}" if rest else padded


def _verdicts(layout: Layout, values: list[str]) -> list[str | None]:
    """What the contract says of each logical row of a (broken) row: the generator's bad rows
    are counted by the contract's own rules."""
    if len(values) != len(layout.fields):
        return [c.MALFORMED_ROW]
    recognised = f.recognise(list(layout.names))
    single = layout.export_format.single_date
    return [reject_reason(row, single) for row in f.logical_rows(recognised, values)]


def _chunks(rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, rows, CHUNK_ROWS):
        yield start, min(start + CHUNK_ROWS, rows)


def generate(
    path: Path,
    rows: int,
    seed: int = 0,
    city: str | None = None,
    date_ranges: int | str = DEFAULT_DATE_RANGES,
    bad_share: float = 0.0,
    bad_reasons: Sequence[str] = c.REJECT_REASONS,
    gzip: bool | None = None,
    geometry: bool = False,
    zones: int = DEFAULT_ZONES,
    crlf: bool = False,
    bom: bool = False,
    progress: Callable[[int], None] | None = None,
    export_format: str = "movement",
    distance: bool = False,
    empty_means: float | None = None,
    duplicates: float = 0.0,
) -> GenerateStats:
    """Write a travel-times export of `rows` data rows to `path` and return what was written.

    `export_format` is one of FORMATS' names; `date_ranges` is a number of distinct Date Range
    values or `"daily"` (one single-day range per day of the year); `bad_share` of the rows
    break the contract, spread evenly over `bad_reasons`; `empty_means` is the share of rows (of
    daily periods) without a measurement (default 0, daily 0.3); `duplicates` the share of rows
    that repeat an earlier row exactly; `gzip` defaults to whether `path` ends in `.gz`;
    `geometry` adds the zones' outlines, `distance` Movement's `TravelDistance (meters)`.
    `progress` is called with the number of rows written after each chunk."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if export_format not in FORMATS:
        raise ValueError(
            f"export_format must be one of {', '.join(FORMATS)}, got {export_format!r}"
        )
    for name, share in (("bad_share", bad_share), ("duplicates", duplicates)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {share}")
    reasons = list(bad_reasons)
    unknown = set(reasons) - set(c.REJECT_REASONS)
    if unknown or (bad_share and not reasons):
        raise ValueError(
            f"bad_reasons must be a non-empty subset of {', '.join(c.REJECT_REASONS)}; "
            f"got {', '.join(reasons) or 'none'}"
        )
    fmt = FORMATS[export_format]
    if empty_means is None:
        empty_means = DAILY_EMPTY_SHARE if fmt is f.DAILY else 0.0
    path = Path(path)
    gzip = path.name.endswith(".gz") if gzip is None else gzip
    started = time.perf_counter()
    rng = random.Random(seed)
    layout = layout_of(fmt, geometry, distance)
    pieces = _Pieces(
        rng,
        layout,
        CITIES.get(city or "bogota") or generic_city(city or "bogota"),
        zones,
        date_ranges,
        empty_means,
    )
    stats = GenerateStats(path=path, rows=rows, export_format=fmt.name)
    total_bad = round(rows * bad_share)
    stats.bad_rows = dict.fromkeys(reasons, 0) if total_bad else {}
    newline = "\r\n" if crlf else "\n"
    header = ",".join(
        (quoted if fmt in (f.DAY_OF_WEEK, f.TIME_OF_DAY) else csv_field)(n) for n in layout.names
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(path, gzip) as out:
        out.write(("\ufeff" if bom else "") + header + newline)
        written: list[str] = []
        for start, end in _chunks(rows):
            # Bad rows before row i: i * total_bad // rows, exact in total, even across chunks.
            first_bad = start * total_bad // rows if rows else 0
            chunk_bad = end * total_bad // rows - first_bad if rows else 0
            bad_at = dict(
                zip(
                    sorted(rng.sample(range(end - start), chunk_bad)),
                    range(first_bad, first_bad + chunk_bad),
                    strict=True,
                )
            )
            lines = []
            for i in range(end - start):
                draw = pieces.draw(rng)
                if i in bad_at:
                    reason = reasons[bad_at[i] % len(reasons)]
                    values = break_row(rng, layout, pieces.values(draw), reason)
                    for verdict in _verdicts(layout, values):
                        stats.logical_rows += 1
                        if verdict == c.NO_MEASUREMENT:
                            stats.no_measurement += 1
                        elif verdict:
                            stats.bad_rows[verdict] = stats.bad_rows.get(verdict, 0) + 1
                    line = join_row(values)
                elif written and duplicates and rng.random() < duplicates:
                    stats.duplicate_rows += 1
                    line = rng.choice(written)
                else:
                    stats.logical_rows += pieces.periods or 1
                    stats.no_measurement += sum(t < 0 for t in draw[4])
                    line = pieces.text(draw)
                    if duplicates and len(written) < 1024:
                        written.append(line)
                lines.append(line)
            text = "".join(lines)
            out.write(text.replace("\n", "\r\n") if crlf else text)
            if progress:
                progress(end)
    stats.bytes_written = path.stat().st_size
    stats.seconds = time.perf_counter() - started
    return stats


@contextlib.contextmanager
def _open_text(path: Path, gzip: bool) -> Iterator[TextIO]:
    # newline="" keeps "\r\n" as written; a large buffer keeps write calls few.
    if gzip:
        with (
            gzip_module.open(path, "wb", compresslevel=6) as raw,
            io.TextIOWrapper(io.BufferedWriter(raw, 1 << 20), encoding="utf-8", newline="") as out,
        ):
            yield out
    else:
        with open(path, "w", encoding="utf-8", newline="", buffering=1 << 20) as out:
            yield out
