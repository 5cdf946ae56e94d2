"""`lake demo` (what `make run` runs): a newcomer's first ten minutes in one command.

Generates a realistic Uber Movement export, uploads it into the raw bucket so that its
"Object Created" event starts the real workflow (the same ASL file, Lambda handler, Glue script
and Athena SQL as on AWS), shows the progress and the summary, answers a question in SQL, and
says what to try next."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from rich.panel import Panel
from rich.text import Text

from lake.home import HOME_ENV
from lake.ui import terminal
from lake.ui.generate import generate
from lake.ui.report import counts
from lake.ui.views import query_table

CITY = "bogota"
FILE_NAME = "2019-travel-times.csv"
ROWS = 20_000
BAD_SHARE = 0.002  # a few bad rows, under the 1 % threshold: set aside, not fatal
# The second file shows another real format: Movement's "Travel Times Daily" export (one column
# triple per period, many cells empty), for a city whose folder has an underscore as the
# data.world copies name them.
DAILY_CITY = "johannesburg_and_pretoria"
DAILY_FILE_NAME = "2019-travel-times-daily.csv"
DAILY_ROWS = 1_000


def slowest_pairs_sql(database: str, table: str, city: str, day: dict[str, Any]) -> str:
    """The ten slowest origin -> destination pairs on one day; pruned to that day's partition."""
    return (
        "SELECT origin_display_name AS origin, destination_display_name AS destination,\n"
        "       min(start_date) AS from_date, max(end_date) AS to_date,\n"
        "       round(avg(mean_travel_time_s) / 60, 1) AS mean_minutes\n"
        f"FROM `{database}`.`{table}`\n"
        f"WHERE city = '{city}' AND year = {int(day['year'])} AND month = {int(day['month'])} "
        f"AND day = {int(day['day'])}\n"
        "GROUP BY origin_display_name, destination_display_name\n"
        "ORDER BY mean_minutes DESC\n"
        "LIMIT 10"
    )


def run_demo(args: argparse.Namespace, upload: Callable, open_lake: Callable) -> int:
    """The demo, with the CLI's `upload` and `open_lake` (handed in: the CLI registers the demo)."""
    with open_lake(args) as lake:
        return _demo(args, lake, upload)


def _demo(args: argparse.Namespace, lake: Any, upload: Callable) -> int:
    home = lake.home
    out = terminal.stdout()
    out.print(
        Panel.fit(
            "movement-lake runs on this machine the same workflow it runs on AWS:\n"
            "an upload to the raw bucket → validate (Lambda) → transform (Glue, Spark) → "
            "register partitions (Athena SQL).\n"
            f"Everything lives in the lake home {home.root}",
            title="movement-lake demo",
        )
    )
    source = home.root / "demo" / FILE_NAME
    started = time.perf_counter()
    stats = generate(source, rows=args.rows, seed=args.seed, city=CITY, bad_share=BAD_SHARE)
    out.print(
        f"\n[bold]1. A travel-times export[/]: {stats.rows:,} origin→destination rows for Bogotá "
        f"({stats.bad} of them deliberately broken) written to {source} "
        f"({stats.bytes_written / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)."
    )
    key = f"travel_times/{CITY}/{FILE_NAME}"
    told = (
        f"\n[bold]2. Upload[/] to s3://{home.settings.raw_bucket}/{key}: the S3 event starts the "
        "workflow (the first run also starts Spark: allow two minutes on a small machine).\n"
    )
    status = _upload_step(out, lake, upload, source, key, told, "The demo's upload")
    if status != 0:
        return status
    record = lake.executions(limit=1)[0]
    partitions = counts(lake.manifest(record))["partitions"]
    days = sorted(
        (p for p in partitions if isinstance(p, dict)),
        key=lambda p: (int(p["year"]), int(p["month"]), int(p["day"])),
    )
    if days:
        first = days[0]
        sql = slowest_pairs_sql(home.settings.database, home.settings.table, CITY, first)
        out.print(
            f"\n[bold]3. A question for the lake[/]: which trips were slowest on the export's "
            f"first day, {first['year']}-{int(first['month']):02d}-{int(first['day']):02d}?\n"
        )
        out.print(Text(sql, "cyan"))
        t0 = time.perf_counter()
        outcome = lake.query(sql)
        took = time.perf_counter() - t0
        out.print(query_table(outcome))
        if outcome.rows:
            origin, destination, *_, minutes = outcome.rows[0]
            out.print(
                f"The slowest trip that day: {origin} → {destination}, {minutes} minutes on "
                f"average (answered in {took:.1f} s, reading only that day's partition)."
            )
    status = _second_format(args, lake, upload, out)
    if status != 0:
        return status
    lake = _lake_command() + ("" if args.home_is_default else f" --home {home.root}")
    raw_folder = home.bucket_path(home.settings.raw_bucket) / "travel_times"
    steps = [
        (f"{lake} executions", "every run, newest first"),
        (
            f"{lake} describe {record.name} --graph run.svg",
            "this run in detail, and drawn like the AWS console's graph (open run.svg)",
        ),
        (
            f'{lake} query "SELECT city, count(*) AS n FROM travel_times GROUP BY city"',
            "ask your own question in SQL (--format csv or json for other tools)",
        ),
        (
            f'{lake} query "SELECT city, start_date, mean_travel_time_s FROM travel_times '
            "WHERE time_of_day = 'AM Peak' LIMIT 5\"",
            "the morning peak, from every file and format that measured it",
        ),
        (
            f"{lake} generate bad.csv --rows 500 --bad-share 0.2",
            "make an export with too many broken rows, then",
        ),
        (f"{lake} upload bad.csv --city lima", "see it fail, where and why, and what to do"),
        (
            f"{lake} alerts",
            "the alert e-mail that failure sent (set LAKE_SMTP_HOST, "
            "LAKE_SMTP_PORT and LAKE_ALERT_EMAIL to have it mailed)",
        ),
        (
            f"{lake} watch",
            f"keep the lake running: copy exports into {raw_folder}/<city>/ from anywhere",
        ),
    ]
    out.print(Text("\nWhat to try next", "bold"))
    for command, what in steps:
        out.print(Text.assemble(("  $ ", "dim"), (command, "cyan")))
        out.print(Text(f"      {what}", "dim"))
    return 0


def periods_sql(database: str, table: str, city: str) -> str:
    """Mean travel time per canonical period (`time_of_day`), whatever the file spelled."""
    return (
        "SELECT time_of_day, count(*) AS trips, round(avg(mean_travel_time_s) / 60, 1) "
        "AS mean_minutes\n"
        f"FROM `{database}`.`{table}`\n"
        f"WHERE city = '{city}'\n"
        "GROUP BY time_of_day\n"
        "ORDER BY mean_minutes DESC"
    )


def _second_format(args: argparse.Namespace, lake: Any, upload: Callable, out: Any) -> int:
    """Step 4: a file in the Travel Times Daily format lands in the same table."""
    home = lake.home
    source = home.root / "demo" / DAILY_FILE_NAME
    stats = generate(
        source, rows=args.daily_rows, seed=args.seed, city=DAILY_CITY, export_format="daily"
    )
    key = f"travel_times/{DAILY_CITY}/{DAILY_FILE_NAME}"
    told = (
        f'\n[bold]4. Another real format[/]: Movement\'s "Travel Times Daily" export, '
        f"{stats.rows:,} rows with a column triple per period and empty cells where Uber had "
        f"too little data, uploaded to s3://{home.settings.raw_bucket}/{key}. The format is "
        "recognised from the header; each measured period becomes one row.\n"
    )
    status = _upload_step(out, lake, upload, source, key, told, "The demo's second upload")
    if status != 0:
        return status
    sql = periods_sql(home.settings.database, home.settings.table, DAILY_CITY)
    out.print("\nEvery format names its periods the same way, so one query asks by period:\n")
    out.print(Text(sql, "cyan"))
    out.print(query_table(lake.query(sql)))
    return 0


def _upload_step(
    out: Any, lake: Any, upload: Callable, source: Any, key: str, told: str, which: str
) -> int:
    """Say what is uploaded, upload it (the CLI's upload shows the workflow), its exit status."""
    out.print(told)
    status = upload(lake, source, key)
    if status != 0:
        out.print(f"\n[red]{which} failed; the lines above say why.[/]")
    return status


def _lake_command() -> str:
    """How the user runs `lake` from here: plain `lake` when it is on PATH (an activated
    venv), else the path `make run` used, e.g. `.venv/bin/lake`."""
    import os
    import shutil
    import sys

    if shutil.which("lake"):
        return "lake"
    launched = sys.argv[0]
    if os.path.basename(launched) == "lake" and os.path.exists(launched):
        return os.path.relpath(launched)
    return "python -m lake.ui.cli"


def add_command(
    subparsers: argparse._SubParsersAction,
    common: argparse.ArgumentParser,
    *,
    upload: Callable,
    open_lake: Callable,
) -> None:
    parser = subparsers.add_parser(
        "demo",
        parents=[common],
        help="generate an export, run the whole workflow, query the lake (what `make run` does)",
        description="Generate a realistic export, upload it, follow the workflow, query the "
        "result, and print what to try next.",
    )
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows to generate ({ROWS:,})")
    parser.add_argument(
        "--daily-rows",
        type=int,
        default=DAILY_ROWS,
        help=f"rows of the second, daily-format export ({DAILY_ROWS:,})",
    )
    parser.add_argument("--seed", type=int, default=2019)
    parser.set_defaults(run=lambda args: _run(args, upload, open_lake))


def _run(args: argparse.Namespace, upload: Callable, open_lake: Callable) -> int:
    import os

    args.home_is_default = getattr(args, "home", None) is None and not os.environ.get(HOME_ENV)
    return run_demo(args, upload, open_lake)
