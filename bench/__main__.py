"""`python -m bench`: run the benchmarks of issue 5 and write bench/RESULTS.md and
bench/results.png (`--quick`: a smoke run of a few minutes, written under bench/out/quick/)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from rich.console import Console

from bench import chart, report, suite, transform

BENCH_DIR = Path(__file__).resolve().parent
ANALYSIS = BENCH_DIR / "analysis.md"  # hand-written reading of the numbers, appended if present


def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


def _conf(items: list[str]) -> dict[str, str]:
    conf = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--conf expects key=value, got {item!r}")
        conf[key.strip()] = value.strip()
    return conf


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small inputs, a few minutes")
    parser.add_argument("--sizes", type=_ints, help="rows of the default inputs, e.g. 1e5,1e6")
    parser.add_argument("--daily-rows", type=int, help="rows of the 365-range input (0: none)")
    parser.add_argument("--runs", type=int, help="runs per implementation and input")
    parser.add_argument(
        "--large-runs", type=int, help=f"runs for inputs of {suite.LARGE_ROWS:,} rows or more"
    )
    parser.add_argument("--impls", help=f"subset of {','.join(transform.IMPLEMENTATIONS)}")
    parser.add_argument(
        "--sections", help="subset of transform,cores,e2e,cold_start,burst,catalog,query"
    )
    parser.add_argument("--driver-memory", help="spark.driver.memory of the warm worker")
    parser.add_argument(
        "--java-options",
        help="JVM options for our job, cold and warm (via JDK_JAVA_OPTIONS)",
    )
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="runtime Spark SQL setting for the warm runs (repeatable)",
    )
    parser.add_argument(
        "--code",
        choices=("head", "worktree"),
        help="measure the job as last committed (default) or as it is on disk",
    )
    parser.add_argument("--out", type=Path, help=f"work folder (default {suite.OUT})")
    parser.add_argument("--results", type=Path, help="Markdown report to write")
    parser.add_argument("--chart", type=Path, help="PNG chart to write")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="re-render the report from the last run's results.json",
    )
    return parser


def make_plan(args: argparse.Namespace) -> suite.Plan:
    plan = suite.Plan.quick() if args.quick else suite.Plan.full()
    if args.sizes is not None:
        plan.sizes = args.sizes
    if args.daily_rows is not None:
        plan.daily_rows = args.daily_rows
    if args.runs:
        plan.runs = args.runs
    if args.large_runs:
        plan.large_runs = args.large_runs
    if args.impls:
        plan.impls = [i.strip() for i in args.impls.split(",")]
        unknown = set(plan.impls) - set(transform.IMPLEMENTATIONS)
        if unknown:
            raise SystemExit(f"unknown implementation(s): {', '.join(sorted(unknown))}")
    if args.sections:
        plan.sections = [s.strip() for s in args.sections.split(",")]
    if args.driver_memory:
        plan.driver_memory = args.driver_memory
    plan.warm_conf = _conf(args.conf)
    if args.java_options:
        plan.java_options = args.java_options
    if args.out:
        plan.out = args.out.resolve()
    if args.code:
        plan.code = args.code
    return plan


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # under make or a pipe: wide enough for the transform table
        console = Console(width=180)
    out = (args.out.resolve() if args.out else suite.OUT) / ("quick" if args.quick else "full")
    results_md = args.results or (out / "RESULTS.md" if args.quick else BENCH_DIR / "RESULTS.md")
    chart_png = args.chart or (out / "results.png" if args.quick else BENCH_DIR / "results.png")
    results_json = out / "results.json"

    if args.report_only:
        results = json.loads(results_json.read_text())
    else:
        plan = make_plan(args)
        command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
        started = time.perf_counter()

        def log(message: str) -> None:
            console.print(
                f"[dim]{time.perf_counter() - started:7.1f}s[/dim] {message}", highlight=False
            )

        results = suite.run(plan, command.strip(), log)
        suite.save(results, results_json)

    analysis = [ANALYSIS.read_text()] if ANALYSIS.exists() and not args.quick else []
    results_md.parent.mkdir(parents=True, exist_ok=True)
    results_md.write_text(report.markdown(results, analysis))
    drawn = chart.draw(results, chart_png)
    report.print_tables(results, console)
    console.print(f"Report: {results_md}" + (f"; chart: {drawn}" if drawn else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
