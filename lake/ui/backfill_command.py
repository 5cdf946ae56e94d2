"""`lake backfill --prefix P [--only-failed] [--max-concurrency N]`: the backfill workflow (the
same ASL file the stack deploys) over a raw-bucket prefix, followed as it runs (its Map Run's
counts on the running line), then what it did: files re-processed, failed and skipped, its Map
Run, and the ingest executions it started, each a normal execution to describe or redrive."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from rich.text import Text

from contract import layout
from lake.runtime import Lake
from lake.ui import terminal
from lake.ui.progress import follow
from lake.ui.report import backfill_outcome, summary_json
from lake.ui.timeline import read_timeline
from lake.ui.views import executions_table, map_runs_table


def _check(args: argparse.Namespace, usage_error: type[Exception]) -> None:
    if not args.prefix.startswith(layout.RAW_PREFIX):
        raise usage_error(
            f"--prefix must lie under {layout.RAW_PREFIX} (e.g. {layout.RAW_PREFIX}bogota/): "
            "only keys there start the ingest workflow"
        )
    if args.max_concurrency is not None and args.max_concurrency < 1:
        raise usage_error("--max-concurrency must be at least 1")
    percentage = args.tolerated_failure_percentage
    if percentage is not None and not 0 <= percentage <= 100:
        raise usage_error("--tolerated-failure-percentage must be between 0 and 100")
    if args.parallel < 1:
        raise usage_error("--parallel must be at least 1")


def _counts(lake: Lake, name: str) -> Callable[[], str]:
    def note() -> str:
        runs = lake.map_runs(name)
        if not runs:
            return ""
        items = runs[-1].item_counts
        done = sum(items.get(k, 0) for k in ("succeeded", "failed", "timedOut", "aborted"))
        return f"· {done}/{items.get('total', 0)} files done, {items.get('failed', 0)} failed"

    return note


def run_backfill(
    args: argparse.Namespace,
    open_lake: Callable[..., Lake],
    announce_engine: Callable[[Lake], None],
    usage_error: type[Exception],
) -> int:
    """Start the backfill, follow it, report it; 0 only when every file succeeded."""
    _check(args, usage_error)
    with open_lake(args, parallel=args.parallel) as lake:
        announce_engine(lake)
        name = lake.backfill(
            args.prefix,
            only_failed=args.only_failed,
            max_concurrency=args.max_concurrency,
            tolerated_failure_percentage=args.tolerated_failure_percentage,
        )
        err = terminal.stderr()
        err.print(Text(f"backfill {name} of {args.prefix}", "bold"))
        record = follow(lake, name, err, running_note=_counts(lake, name))
        runs, started = lake.map_runs(name), lake.started_executions(name)
    if args.json:
        summary = summary_json(record, read_timeline([], []), None, {}, runs, started)
        print(json.dumps(summary, indent=2))
    else:
        out = terminal.stdout()
        out.print()
        mark = "✔" if record.status == "SUCCEEDED" else "✖"
        out.print(Text(f"{mark} backfill {record.name}", "bold"))
        for line in backfill_outcome(record, runs, started):
            out.print("  " + line)
        if runs:
            out.print(map_runs_table(runs))
        if started:
            out.print(executions_table(started, title="the ingest executions it started"))
    failed = [e for e in started if e.status != "SUCCEEDED"]
    return 0 if record.status == "SUCCEEDED" and not failed else 1


def add_command(
    command: Callable[..., argparse.ArgumentParser],
    *,
    open_lake: Callable[..., Lake],
    announce_engine: Callable[[Lake], None],
    usage_error: type[Exception],
) -> None:
    """Register `lake backfill` with the CLI's `command(name, help, run)` helper."""

    def run(args: argparse.Namespace) -> Any:
        return run_backfill(args, open_lake, announce_engine, usage_error)

    p = command(
        "backfill",
        "re-process every export under a raw-bucket prefix: the backfill workflow starts the "
        "ingest workflow once per file",
        run,
        uses_engine=True,
    )
    p.add_argument("--prefix", required=True, help="e.g. travel_times/bogota/ (or travel_times/)")
    p.add_argument(
        "--only-failed",
        action="store_true",
        help="only the files not in the lake in their current version",
    )
    p.add_argument(
        "--max-concurrency",
        type=int,
        metavar="N",
        help="ingest executions at a time (default: glueMaxConcurrentRuns)",
    )
    p.add_argument(
        "--tolerated-failure-percentage",
        type=float,
        metavar="P",
        help="stop once more than P %% of the files failed (default 10)",
    )
    p.add_argument(
        "--parallel",
        type=int,
        default=2,
        metavar="N",
        help="executions at a time when this command runs the engine itself (default 2)",
    )
