"""The transform comparison: each implementation on the same file in the same run, alternating,
N runs each, medians reported.

Each run starts from an empty output folder. The order of the implementations rotates from run
to run so that none always follows the same neighbour (page cache, CPU heat, memory freed late)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.harness import Measurement, median, partition_file_counts, run_measured, tree_size
from bench.inputs import CITY, InputSpec
from bench.ours import JobPaths, WarmWorker, cold_command, read_manifest, rows_written
from settings import PROJECT_ROOT

OURS_COLD = "ours_cold"
OURS_WARM = "ours_warm"
REFERENCE = "reference_pandas"
DUCKDB = "duckdb"
SPARK_COPY = "spark_copy"
IMPLEMENTATIONS = (OURS_COLD, OURS_WARM, REFERENCE, DUCKDB, SPARK_COPY)
LABELS = {
    OURS_COLD: "ours, cold (Glue script, fresh JVM)",
    OURS_WARM: "ours, warm (session up)",
    REFERENCE: "reference approach (pandas)",
    DUCKDB: "DuckDB COPY",
    SPARK_COPY: "Spark's floor: the copy alone, warm",
}
# Implementations run in a warm worker's session (bench.warm_worker), each in its own.
IN_WARM_WORKER = (OURS_WARM, SPARK_COPY)
RUN_TIMEOUT_S = 3600


@dataclass
class RunRecord:
    """One timed run of one implementation on one input."""

    input: str
    rows: int
    input_bytes: int
    impl: str
    run: int
    wall_s: float
    cpu_s: float
    peak_rss: int
    ok: bool
    rows_written: int | None
    output_bytes: int
    output_files: int
    partitions: int
    max_files_per_partition: int
    error: str = ""
    extra: dict = field(default_factory=dict)


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return path


def output_dir(workdir: Path, impl: str, spec: InputSpec) -> Path:
    """Each input's outputs stay (last run) in a folder of their own, for the query section."""
    return workdir / spec.file_name().removesuffix(".csv") / impl


def table_root(workdir: Path, impl: str, spec: InputSpec) -> Path:
    """The folder holding the table's Parquet files (city=.../year=... below it)."""
    if impl in (OURS_COLD, OURS_WARM):
        return job_paths(workdir, impl, Path(), spec).table_root
    return output_dir(workdir, impl, spec) / "out"


def job_paths(workdir: Path, impl: str, source: Path, spec: InputSpec) -> JobPaths:
    base = output_dir(workdir, impl, spec)
    return JobPaths(
        source_path=source,
        source_key=spec.source_key,
        curated_path=base / "curated",
        # The job keeps a manifest (and its statements) in the curated bucket only.
        manifest_path=base / "curated" / "manifests" / "bench.json",
    )


def run_once(
    impl: str,
    spec: InputSpec,
    source: Path,
    workdir: Path,
    warm: WarmWorker | None,
    conf: dict[str, str] | None = None,
    java_options: str = "",
    code_root: Path = PROJECT_ROOT,
) -> tuple[Measurement, Path]:
    """Run `impl` once on `source` into a fresh folder, from the code in `code_root` (a frozen
    copy, see bench.snapshot); returns the measurement and the folder holding the table's
    Parquet files."""
    if impl in (OURS_COLD, OURS_WARM):
        paths = job_paths(workdir, impl, source, spec)
        _fresh(paths.curated_path)
        _fresh(paths.manifest_path)
        if impl == OURS_COLD:
            measured = run_measured(
                cold_command(paths, code_root),
                env={"PYSPARK_PYTHON": sys.executable}
                | ({"JDK_JAVA_OPTIONS": java_options} if java_options else {}),
                cwd=code_root,
                timeout_s=RUN_TIMEOUT_S,
            )
            # The script prints logs, not a result: its manifest says what it wrote.
            manifest = read_manifest(paths.manifest_path)
            measured.result = {"rows_written": rows_written(manifest), "manifest": manifest}
        else:
            if warm is None:
                raise RuntimeError("the warm implementation needs a warm worker")
            measured = warm.run(paths, conf)
        return measured, paths.table_root
    out = _fresh(table_root(workdir, impl, spec))
    out.parent.mkdir(parents=True, exist_ok=True)
    if impl == SPARK_COPY:
        if warm is None:
            raise RuntimeError("Spark's floor runs in a warm worker")
        return warm.copy(source, out, CITY, spec.source_key), out
    module = {REFERENCE: "bench.reference_pandas", DUCKDB: "bench.duckdb_copy"}[impl]
    cmd = [
        sys.executable,
        "-m",
        module,
        "--source",
        str(source),
        "--out",
        str(out),
        "--city",
        CITY,
        "--source-key",
        spec.source_key,
    ]
    return run_measured(cmd, cwd=code_root, timeout_s=RUN_TIMEOUT_S), out


def measure_input(
    spec: InputSpec,
    source: Path,
    impls: Sequence[str],
    runs: int,
    workdir: Path,
    workers: Mapping[str, WarmWorker],
    log: Callable[[str], None] = print,
    warm_conf: dict[str, str] | None = None,
    java_options: str = "",
    code_root: Path = PROJECT_ROOT,
) -> list[RunRecord]:
    """`runs` alternating runs of every implementation on one input (`workers`: the warm
    worker of each implementation that runs in one)."""
    records = []
    for run in range(runs):
        order = list(impls[run % len(impls) :]) + list(impls[: run % len(impls)])
        for impl in order:
            log(f"[{spec.label}] {LABELS[impl]}: run {run + 1}/{runs} ...")
            measured, root = run_once(
                impl, spec, source, workdir, workers.get(impl), warm_conf, java_options, code_root
            )
            out_bytes, out_files = tree_size(root)
            per_partition = partition_file_counts(root)
            record = RunRecord(
                input=spec.label,
                rows=spec.rows,
                input_bytes=source.stat().st_size,
                impl=impl,
                run=run + 1,
                wall_s=measured.wall_s,
                cpu_s=measured.cpu_s,
                peak_rss=measured.peak_rss,
                ok=measured.ok,
                rows_written=_int_or_none(measured.result.get("rows_written")),
                output_bytes=out_bytes,
                output_files=out_files,
                partitions=len(per_partition),
                max_files_per_partition=max(per_partition.values(), default=0),
                error="" if measured.ok else measured.stderr_tail[-1500:],
            )
            records.append(record)
            status = "ok" if record.ok else "FAILED"
            log(
                f"[{spec.label}] {LABELS[impl]}: run {run + 1}/{runs} {status} "
                f"{record.wall_s:.2f} s ({record.cpu_s:.1f} CPU s), "
                f"peak {record.peak_rss / 2**20:.0f} MiB, {record.rows_written} rows, "
                f"{out_files} files"
            )
            if not record.ok:
                log(record.error)
    return records


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class Summary:
    """The medians of one implementation on one input, and its ratios to the two peers."""

    input: str
    rows: int
    input_bytes: int
    impl: str
    runs: int
    ok_runs: int
    wall_s: float
    wall_min_s: float
    wall_max_s: float
    cpu_s: float
    rows_per_s: float
    peak_rss: float
    output_bytes: int
    output_files: int
    partitions: int
    max_files_per_partition: int
    rows_written: int | None
    vs_duckdb: float | None = None
    vs_reference: float | None = None


def summarize(records: Sequence[RunRecord]) -> list[Summary]:
    """Medians per (input, implementation) over the successful runs, with ratios of wall time
    to DuckDB's and the reference's medians on the same input in the same run."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.input, r.impl), []).append(r)
    summaries = []
    for (label, impl), group in groups.items():
        ok = [r for r in group if r.ok]
        walls = [r.wall_s for r in ok]
        last = (ok or group)[-1]
        wall = median(walls)
        summaries.append(
            Summary(
                input=label,
                rows=last.rows,
                input_bytes=last.input_bytes,
                impl=impl,
                runs=len(group),
                ok_runs=len(ok),
                wall_s=wall,
                wall_min_s=min(walls, default=float("nan")),
                wall_max_s=max(walls, default=float("nan")),
                cpu_s=median([r.cpu_s for r in ok]) if ok else float("nan"),
                rows_per_s=last.rows / wall if ok else float("nan"),
                peak_rss=median([r.peak_rss for r in ok]) if ok else float("nan"),
                output_bytes=last.output_bytes,
                output_files=last.output_files,
                partitions=last.partitions,
                max_files_per_partition=last.max_files_per_partition,
                rows_written=last.rows_written,
            )
        )
    by_key = {(s.input, s.impl): s for s in summaries}
    for s in summaries:
        for peer, attr in ((DUCKDB, "vs_duckdb"), (REFERENCE, "vs_reference")):
            other = by_key.get((s.input, peer))
            if other and other.ok_runs and s.ok_runs:
                setattr(s, attr, s.wall_s / other.wall_s)
    return summaries


def as_dicts(items) -> list[dict]:
    return [asdict(i) for i in items]
