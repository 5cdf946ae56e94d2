"""`lake generate OUT ...`: the command line of the export generator (`lake.ui.generate`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contract import columns as c
from lake.ui.generate import (
    CHUNK_ROWS,
    DAILY,
    DAILY_EMPTY_SHARE,
    DEFAULT_DATE_RANGES,
    FORMATS,
    generate,
)


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
        description="Write a realistic synthetic travel-times export in any accepted format: "
        "deterministic for a seed, streamed in constant memory, gzip when OUT ends in .gz.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="file to write (.csv or .csv.gz)")
    parser.add_argument(
        "--format",
        dest="export_format",
        choices=list(FORMATS),
        default="movement",
        help="which export: the Movement download (default), the data.world snake_case copy, "
        "the Travel Times Daily, Day Of Week or Time Of Day export",
    )
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
    parser.add_argument(
        "--empty-means",
        type=float,
        default=None,
        metavar="SHARE",
        help="share of rows (daily: of periods) without a measurement "
        f"(default 0; daily {DAILY_EMPTY_SHARE})",
    )
    parser.add_argument(
        "--duplicates", type=float, default=0.0, metavar="SHARE", help="share of exact duplicates"
    )
    parser.add_argument("--geometry", action="store_true", help="add the zones' outlines")
    parser.add_argument(
        "--distance", action="store_true", help="add TravelDistance (meters) (Movement format)"
    )
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
        export_format=args.export_format,
        distance=args.distance,
        empty_means=args.empty_means,
        duplicates=args.duplicates,
    )
    bad = ", ".join(f"{reason} {n:,}" for reason, n in stats.bad_rows.items() if n)
    extras = [
        f"{n:,} {what}"
        for n, what in (
            (stats.duplicate_rows, "exact duplicates"),
            (stats.no_measurement, "without a measurement"),
        )
        if n
    ]
    print(
        f"wrote {stats.rows:,} rows of the {stats.export_format} format "
        f"({stats.bad:,} bad{': ' + bad if bad else ''}{'; ' if extras else ''}"
        f"{'; '.join(extras)}) to {stats.path} ({stats.bytes_written / 1e6:.1f} MB) in "
        f"{stats.seconds:.1f} s"
    )
    return 0
