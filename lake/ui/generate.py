"""`lake generate`: synthetic Uber Movement travel-time exports that look like the real ones.

Rows are streamed in fixed-size chunks (constant memory from 10 rows to tens of millions) from
precomputed, already CSV-quoted fields: a zone's `id,"display name"` and a date range are built
once, so a row costs a few `random.choices` picks and one string join. The output depends only
on the arguments: the same seed gives the same bytes.

Bad rows replace good ones at seeded positions, spread evenly over the requested reasons, and
each breaks exactly one rule of the contract, so that a correct reader gives it that reason."""

from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import gzip as gzip_module
import io
import math
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from contract import columns as c

CHUNK_ROWS = 20_000
DEFAULT_ZONES = 1_000
DEFAULT_DATE_RANGES = 12
DAILY = "daily"
YEAR = 2019
ORIGIN_GEOMETRY = "Origin Geometry"
DESTINATION_GEOMETRY = "Destination Geometry"

DAY_TYPES = ("Every day", "Weekdays", "Weekends")
TIMES_OF_DAY = (
    "Daily Average",
    "AM Peak (7AM - 10AM)",
    "Midday (10AM - 4PM)",
    "PM Peak (4PM - 7PM)",
    "Evening (7PM - 12AM)",
    "Early Morning (12AM - 7AM)",
)


@dataclass(frozen=True)
class _City:
    name: str
    latitude: float
    longitude: float
    neighbourhoods: tuple[str, ...]
    street_types: tuple[str, ...]
    street_names: tuple[str, ...]


_CITIES = {
    "bogota": _City(
        "Bogotá",
        4.65,
        -74.08,
        (
            "Chapinero",
            "Usaquén",
            "Teusaquillo",
            "La Candelaria",
            "Kennedy",
            "Suba",
            "Engativá",
            "Fontibón",
            "Barrios Unidos",
            "Santa Fe",
            "Antonio Nariño",
            "Puente Aranda",
        ),
        ("Calle", "Carrera", "Avenida", "Diagonal", "Transversal"),
        ("Jiménez", "Boyacá", "Caracas", "El Dorado", "de las Américas", "Suba", "Séptima"),
    ),
    "sao-paulo": _City(
        "São Paulo",
        -23.55,
        -46.63,
        (
            "Bela Vista",
            "Consolação",
            "Pinheiros",
            "Vila Madalena",
            "Mooca",
            "Liberdade",
            "Butantã",
            "Itaim Bibi",
            "Jardim Paulista",
            "Santana",
            "Perdizes",
            "Ipiranga",
        ),
        ("Rua", "Avenida", "Alameda", "Praça", "Travessa"),
        (
            "Augusta",
            "Paulista",
            "da Consolação",
            "Oscar Freire",
            "Teodoro Sampaio",
            "São João",
            "Brigadeiro Luís Antônio",
            "Ibirapuera",
        ),
    ),
    "paris": _City(
        "Paris",
        48.86,
        2.35,
        (
            "Le Marais",
            "Montmartre",
            "Belleville",
            "Saint-Germain-des-Prés",
            "La Défense",
            "Bastille",
            "Batignolles",
            "Ménilmontant",
            "Quartier Latin",
            "Passy",
        ),
        ("Rue", "Boulevard", "Avenue", "Quai", "Place"),
        ("de Rivoli", "Saint-Michel", "de l'Opéra", "Haussmann", "Voltaire", "des Écoles"),
    ),
}


def _generic_city(slug: str) -> _City:
    name = slug.replace("-", " ").title()
    return _City(
        name,
        0.0,
        0.0,
        tuple(f"{name} {part}" for part in ("Centro", "Norte", "Sur", "Este", "Oeste", "Ribeirão")),
        ("Street", "Avenue", "Road", "Boulevard"),
        ("Main", "Market", "Station", "Église", "O'Neil", "Park"),
    )


@dataclass
class GenerateStats:
    """What `generate` wrote: rows in total, and how many of them are bad, by reject reason."""

    path: Path
    rows: int
    bad_rows: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    seconds: float = 0.0

    @property
    def bad(self) -> int:
        return sum(self.bad_rows.values())


def csv_field(value: str) -> str:
    """One RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, quote or newline."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _display_name(rng: random.Random, city: _City, zone_id: int) -> str:
    street = f"{rng.choice(city.street_types)} {rng.choice(city.street_names)}"
    neighbourhood = rng.choice(city.neighbourhoods)
    kind = rng.randrange(6)
    if kind == 0:
        return neighbourhood
    if kind == 1:
        return f"{street}, {neighbourhood}"
    if kind == 2:
        # Quoted street names appear in real exports, e.g. `Rua "Augusta", São Paulo`.
        name = street.split(" ", 1)
        return f'{name[0]} "{name[1]}", {city.name}'
    if kind == 3:
        return f"{rng.randrange(1, 3000)} {street}, {neighbourhood}, {city.name}"
    if kind == 4:
        return f"{street} & {rng.choice(city.street_names)}"
    return f"Movement Zone {zone_id}"


def _polygon(rng: random.Random, city: _City) -> str:
    # A small irregular polygon near the city centre, WKT as some exports carry it.
    lat = city.latitude + rng.uniform(-0.2, 0.2)
    lon = city.longitude + rng.uniform(-0.2, 0.2)
    points = []
    vertices = rng.randrange(8, 17)
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        radius = rng.uniform(0.002, 0.01)
        points.append(f"{lon + radius * math.cos(angle):.6f} {lat + radius * math.sin(angle):.6f}")
    points.append(points[0])
    return f"POLYGON (({', '.join(points)}))"


def _zone_fields(rng: random.Random, city: _City, zones: int, geometry: bool) -> list[list[str]]:
    """Per zone the raw values of its export columns: id, display name (and geometry)."""
    result = []
    for zone_id in range(1, zones + 1):
        values = [str(zone_id), _display_name(rng, city, zone_id)]
        if geometry:
            values.append(_polygon(rng, city))
        result.append(values)
    return result


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


def _us_date(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


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


# Values that break exactly one rule each (see contract.values.reject_reason).
_BAD_MOVEMENT_IDS = ("0", "-17", "abc", "12.5", "9223372036854775808", "1e3")
_BAD_DATE_RANGES = (
    "not a date range",
    "6/30/2019 - 6/1/2019, Weekdays, Daily Average",  # starts after it ends
    "2/30/2019 - 3/5/2019, Every day, Daily Average",  # no such day
    "2019-06-01 - 2019-06-30, Weekdays, Daily Average",
    "13/1/2019 - 13/31/2019",
    "6/1/2019 - 6/30/2019, Weekdays",
)
_BAD_TRAVEL_TIMES = ("-5", "n/a", "1e3", "12:30", "-0.5")


class _Layout:
    """Where each export column sits in a generated row."""

    def __init__(self, geometry: bool):
        origin = [c.ORIGIN_ID, c.ORIGIN_NAME] + ([ORIGIN_GEOMETRY] if geometry else [])
        destination = [c.DESTINATION_ID, c.DESTINATION_NAME] + (
            [DESTINATION_GEOMETRY] if geometry else []
        )
        times = [c.MEAN_TRAVEL_TIME, c.LOWER_TRAVEL_TIME, c.UPPER_TRAVEL_TIME]
        self.header = origin + destination + [c.DATE_RANGE] + times
        self.zone_width = len(origin)
        self.index = {name: i for i, name in enumerate(self.header)}


class _RowMaker:
    def __init__(
        self,
        rng: random.Random,
        zones: list[list[str]],
        ranges: list[str],
        times: list[str],
        layout: _Layout,
    ):
        self.rng = rng
        self.layout = layout
        self.zones = zones
        self.ranges = ranges
        self.times = times
        # Pre-quoted pieces: a good row is four of them joined by commas.
        self.zone_text = [",".join(csv_field(v) for v in zone) for zone in zones]
        self.range_text = [csv_field(r) for r in ranges]

    def good_rows(self, n: int) -> list[str]:
        choices = self.rng.choices
        return [
            f"{o},{d},{r},{t}\n"
            for o, d, r, t in zip(
                choices(self.zone_text, k=n),
                choices(self.zone_text, k=n),
                choices(self.range_text, k=n),
                choices(self.times, k=n),
                strict=True,
            )
        ]

    def bad_row(self, reason: str) -> str:
        rng = self.rng
        fields = [
            *rng.choice(self.zones),
            *rng.choice(self.zones),
            rng.choice(self.ranges),
            *rng.choice(self.times).split(","),
        ]
        at = self.layout.index
        if reason == c.MALFORMED_ROW:
            fields = fields[:-1] if rng.random() < 0.5 else [*fields, "extra"]
        elif reason == c.MISSING_FIELD:
            fields[at[rng.choice(c.REQUIRED_VALUES)]] = rng.choice(("", " ", "  "))
        elif reason == c.BAD_MOVEMENT_ID:
            fields[at[rng.choice(c.MOVEMENT_ID_COLUMNS)]] = rng.choice(_BAD_MOVEMENT_IDS)
        elif reason == c.BAD_DATE_RANGE:
            fields[at[c.DATE_RANGE]] = rng.choice(_BAD_DATE_RANGES)
        elif reason == c.BAD_TRAVEL_TIME:
            fields[at[rng.choice(c.TRAVEL_TIME_COLUMNS)]] = rng.choice(_BAD_TRAVEL_TIMES)
        else:
            raise ValueError(
                f"unknown reject reason {reason!r}; expected one of {c.REJECT_REASONS}"
            )
        return ",".join(csv_field(f) for f in fields) + "\n"


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
) -> GenerateStats:
    """Write a travel-times export of `rows` data rows to `path` and return what was written.

    `date_ranges` is a number of distinct Date Range values or `"daily"` (one single-day range per
    day of the year); `bad_share` of the rows break the contract, spread evenly over
    `bad_reasons`; `gzip` defaults to whether `path` ends in `.gz`; `geometry` adds WKT
    `Origin Geometry`/`Destination Geometry` columns (ignored by the contract). `progress` is
    called with the number of rows written after each chunk."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if not 0.0 <= bad_share <= 1.0:
        raise ValueError(f"bad_share must be between 0 and 1, got {bad_share}")
    reasons = list(bad_reasons)
    unknown = set(reasons) - set(c.REJECT_REASONS)
    if unknown or (bad_share and not reasons):
        raise ValueError(
            f"bad_reasons must be a non-empty subset of {', '.join(c.REJECT_REASONS)}; "
            f"got {', '.join(reasons) or 'none'}"
        )
    path = Path(path)
    gzip = path.name.endswith(".gz") if gzip is None else gzip
    started = time.perf_counter()
    rng = random.Random(seed)
    city_info = _CITIES.get(city or "bogota") or _generic_city(city or "bogota")
    layout = _Layout(geometry)
    maker = _RowMaker(
        rng,
        _zone_fields(rng, city_info, zones, geometry),
        date_range_values(date_ranges, rng),
        _travel_times(rng, 4096),
        layout,
    )
    total_bad = round(rows * bad_share)
    bad_counts = dict.fromkeys(reasons, 0) if total_bad else {}
    newline = "\r\n" if crlf else "\n"

    path.parent.mkdir(parents=True, exist_ok=True)
    with _open_text(path, gzip) as out:
        out.write(("\ufeff" if bom else "") + ",".join(map(csv_field, layout.header)) + newline)
        for start, end in _chunks(rows):
            lines = maker.good_rows(end - start)
            # Bad rows before row i: i * total_bad // rows, exact in total, even across chunks.
            first_bad = start * total_bad // rows if rows else 0
            chunk_bad = end * total_bad // rows - first_bad if rows else 0
            for k, position in enumerate(sorted(rng.sample(range(end - start), chunk_bad))):
                reason = reasons[(first_bad + k) % len(reasons)]
                lines[position] = maker.bad_row(reason)
                bad_counts[reason] += 1
            text = "".join(lines)
            out.write(text.replace("\n", "\r\n") if crlf else text)
            if progress:
                progress(end)
    return GenerateStats(
        path=path,
        rows=rows,
        bad_rows=bad_counts,
        bytes_written=path.stat().st_size,
        seconds=time.perf_counter() - started,
    )


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


def _date_ranges_arg(value: str) -> int | str:
    if value == DAILY:
        return DAILY
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or '{DAILY}', got {value!r}") from None


def _reasons_arg(value: str) -> list[str]:
    reasons = [r.strip() for r in value.split(",") if r.strip()]
    unknown = [r for r in reasons if r not in c.REJECT_REASONS]
    if unknown or not reasons:
        raise argparse.ArgumentTypeError(
            f"unknown reason(s) {', '.join(unknown) or '(none)'}; choose from "
            f"{','.join(c.REJECT_REASONS)}"
        )
    return reasons


def add_command(subparsers: argparse._SubParsersAction) -> None:
    """Register `lake generate OUT ...` on the `lake` CLI."""
    parser = subparsers.add_parser(
        "generate",
        help="write a synthetic Uber Movement travel-times export (.csv or .csv.gz)",
        description="Write a realistic synthetic travel-times export: deterministic for a seed, "
        "streamed in constant memory, gzip when OUT ends in .gz.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="file to write (.csv or .csv.gz)")
    parser.add_argument("--rows", type=int, default=10_000, help="data rows (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--city", default=None, help="city slug flavouring zone names")
    parser.add_argument(
        "--date-ranges",
        type=_date_ranges_arg,
        default=DEFAULT_DATE_RANGES,
        metavar="N|daily",
        help=f"distinct Date Range values, or '{DAILY}' for one per day of a year "
        f"(default {DEFAULT_DATE_RANGES})",
    )
    parser.add_argument("--bad-share", type=float, default=0.0, help="share of bad rows, 0..1")
    parser.add_argument(
        "--bad-reasons",
        type=_reasons_arg,
        default=list(c.REJECT_REASONS),
        metavar="R1,R2",
        help=f"reasons the bad rows break (default all: {','.join(c.REJECT_REASONS)})",
    )
    parser.add_argument("--geometry", action="store_true", help="add WKT geometry columns")
    parser.add_argument("--crlf", action="store_true", help="end lines with CRLF")
    parser.add_argument("--bom", action="store_true", help="start with a UTF-8 byte-order mark")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    def report(done: int) -> None:
        if done % 1_000_000 < CHUNK_ROWS or done == args.rows:
            print(f"  {done:,} / {args.rows:,} rows", file=sys.stderr, flush=True)

    stats = generate(
        args.out,
        rows=args.rows,
        seed=args.seed,
        city=args.city,
        date_ranges=args.date_ranges,
        bad_share=args.bad_share,
        bad_reasons=args.bad_reasons,
        geometry=args.geometry,
        crlf=args.crlf,
        bom=args.bom,
        progress=report if args.rows >= 1_000_000 else None,
    )
    bad = ", ".join(f"{reason} {n:,}" for reason, n in stats.bad_rows.items() if n)
    print(
        f"wrote {stats.rows:,} rows ({stats.bad:,} bad{': ' + bad if bad else ''}) to "
        f"{stats.path} ({stats.bytes_written / 1e6:.1f} MB) in {stats.seconds:.1f} s"
    )
    return 0
