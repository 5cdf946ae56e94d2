"""Tuning: the Glue job in warm sessions that differ only in Spark settings, on the same file,
alternating, medians. Each variant gets its own warm worker (driver-level settings such as the
driver memory need their own JVM); runtime SQL settings are applied per call.

    python -m bench.tune --rows 1000000 \\
        --variant base \\
        --variant "sp4:spark.sql.shuffle.partitions=4" \\
        --variant "mem4g:@driver_memory=4g"

A variant is `name[:key=value,...]`; keys starting with `@` are worker options
(`@driver_memory`, `@shuffle_partitions`, `@java_options` e.g. -XX:-DontCompileHugeMethods),
the others runtime Spark SQL settings. The table is
printed and written to bench/out/tune/<name>.md with the JSON beside it."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bench.harness import median, partition_file_counts, tree_size
from bench.inputs import InputSpec, ensure_input
from bench.ours import WarmWorker
from bench.report import Table, markdown_table, print_table
from bench.suite import OUT
from bench.transform import job_paths

DEFAULT_VARIANTS = ["base"]


@dataclass
class Variant:
    name: str
    worker: dict[str, str] = field(default_factory=dict)
    conf: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Variant:
        name, _, settings = text.partition(":")
        variant = cls(name.strip())
        for item in filter(None, (s.strip() for s in settings.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise SystemExit(f"variant {text!r}: expected key=value, got {item!r}")
            target = variant.worker if key.startswith("@") else variant.conf
            target[key.lstrip("@")] = value
        return variant


def measure(
    variants: list[Variant], spec: InputSpec, source: Path, runs: int, workdir: Path, log
) -> list[dict]:
    workers: dict[str, WarmWorker] = {}
    rows = {
        v.name: {"walls": [], "cpu": [], "rss": [], "out": (0, 0), "max_files": 0} for v in variants
    }
    try:
        for v in variants:
            log(f"starting worker {v.name} {v.worker or ''}")
            workers[v.name] = WarmWorker(
                workdir / f"home-{v.name}",
                driver_memory=v.worker.get("driver_memory"),
                shuffle_partitions=int(v.worker["shuffle_partitions"])
                if "shuffle_partitions" in v.worker
                else None,
                java_options=v.worker.get("java_options", ""),
            )
            paths = job_paths(workdir / v.name, "ours_warm", source, spec)
            workers[v.name].run(paths, v.conf)  # untimed warm-up on the same file
        for run in range(runs):
            order = variants[run % len(variants) :] + variants[: run % len(variants)]
            for v in order:
                paths = job_paths(workdir / v.name, "ours_warm", source, spec)
                shutil.rmtree(paths.curated_path, ignore_errors=True)
                measured = workers[v.name].run(paths, v.conf)
                if not measured.ok:
                    log(f"{v.name} FAILED: {measured.stderr_tail[-800:]}")
                    continue
                r = rows[v.name]
                r["walls"].append(measured.wall_s)
                r["cpu"].append(measured.cpu_s)
                r["rss"].append(measured.peak_rss)
                r["out"] = tree_size(paths.table_root)
                r["max_files"] = max(partition_file_counts(paths.table_root).values(), default=0)
                log(
                    f"{v.name} run {run + 1}/{runs}: {measured.wall_s:.2f} s "
                    f"({measured.cpu_s:.1f} CPU s), "
                    f"{measured.peak_rss / 2**20:,.0f} MiB"
                )
    finally:
        for worker in workers.values():
            worker.close()
    base = median(rows[variants[0].name]["walls"])
    return [
        {
            "variant": v.name,
            "settings": {**{f"@{k}": x for k, x in v.worker.items()}, **v.conf},
            "median_s": median(rows[v.name]["walls"]),
            "runs_s": rows[v.name]["walls"],
            "vs_first": median(rows[v.name]["walls"]) / base if base else None,
            "cpu_s": median(rows[v.name]["cpu"]),
            "peak_rss": median(rows[v.name]["rss"]),
            "output_bytes": rows[v.name]["out"][0],
            "files": rows[v.name]["out"][1],
            "max_files_per_partition": rows[v.name]["max_files"],
        }
        for v in variants
    ]


def as_table(results: list[dict], title: str) -> Table:
    table = Table(
        title,
        [
            "variant",
            "settings",
            "median s",
            "runs s",
            "CPU s",
            "x first",
            "peak RSS MiB",
            "output MB",
            "files",
            "max files/part.",
        ],
    )
    for r in results:
        table.rows.append(
            [
                r["variant"],
                ", ".join(f"{k}={v}" for k, v in r["settings"].items()) or "(job's own)",
                f"{r['median_s']:.2f}",
                ", ".join(f"{x:.2f}" for x in r["runs_s"]),
                f"{r['cpu_s']:.1f}",
                f"{r['vs_first']:.2f}x" if r["vs_first"] else "–",
                f"{r['peak_rss'] / 2**20:,.0f}",
                f"{r['output_bytes'] / 1e6:,.1f}",
                str(r["files"]),
                str(r["max_files_per_partition"]),
            ]
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tune", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--date-ranges", default="default")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--name", default=time.strftime("tune-%Y%m%d-%H%M%S"))
    args = parser.parse_args(argv)
    console = Console(width=180) if not Console().is_terminal else Console()
    started = time.perf_counter()

    def log(message: str) -> None:
        console.print(
            f"[dim]{time.perf_counter() - started:7.1f}s[/dim] {message}", highlight=False
        )

    variants = [Variant.parse(v) for v in (args.variant or DEFAULT_VARIANTS)]
    spec = InputSpec(rows=args.rows, date_ranges=args.date_ranges)
    source = ensure_input(spec, OUT / "inputs", log)
    workdir = OUT / "tune" / "work"
    results = measure(variants, spec, source, args.runs, workdir, log)
    title = (
        f"Tuning on {spec.label} ({source.stat().st_size / 1e6:,.0f} MB), warm sessions, "
        f"median of {args.runs}"
    )
    table = as_table(results, title)
    out = OUT / "tune"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(
        json.dumps(
            {
                "input": spec.label,
                "command": "python -m bench.tune " + " ".join(sys.argv[1:]),
                "results": results,
            },
            indent=1,
        )
    )
    (out / f"{args.name}.md").write_text(markdown_table(table) + "\n")
    print_table(table, console)
    console.print(f"written to {out / args.name}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
