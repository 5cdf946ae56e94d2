"""The benchmark's inputs: exports made by `lake generate`, cached under bench/out/inputs/.

A cached file is reused only when every parameter AND the generator's source are unchanged (the
file name carries a hash of both), so a change to the generator never benchmarks stale data."""

from __future__ import annotations

import csv
import gzip
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from contract.values import clean_header
from settings import PROJECT_ROOT

GENERATOR_SOURCE = PROJECT_ROOT / "lake" / "ui" / "generate"  # a package: all its modules
CITY = "bench-city"


@dataclass(frozen=True)
class InputSpec:
    """One generated export: its size, its kind of date ranges and whether it has geometry."""

    rows: int
    date_ranges: str = "default"  # "default" = the generator's few ranges; "daily" = 365
    geometry: bool = False
    seed: int = 0

    @property
    def label(self) -> str:
        size = _short_count(self.rows)
        extras = [
            x
            for x in (
                self.date_ranges != "default" and self.date_ranges,
                self.geometry and "geometry",
            )
            if x
        ]
        return size + (f" ({', '.join(extras)})" if extras else "")

    def file_name(self) -> str:
        generator = b"".join(p.read_bytes() for p in sorted(GENERATOR_SOURCE.rglob("*.py")))
        digest = hashlib.sha256(repr(self).encode() + generator).hexdigest()[:10]
        geo = "-geo" if self.geometry else ""
        return f"{self.rows}-{self.date_ranges}{geo}-s{self.seed}-{digest}.csv"

    @property
    def source_key(self) -> str:
        """The raw key the file is ingested under (the identity of a file, per the contract)."""
        return f"travel_times/{CITY}/{self.file_name()}"


def _short_count(n: int) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size and n % (size // 10) == 0:
            value = n / size
            return f"{value:g}{unit}"
    return str(n)


def ensure_input(spec: InputSpec, cache_dir: Path, log=print) -> Path:
    """The cached file for `spec`, generating it first (with `lake generate`) when missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / spec.file_name()
    if path.exists():
        return path
    partial = path.with_name(path.name + ".partial.csv")
    cmd = [
        sys.executable,
        "-m",
        "lake.ui.cli",
        "generate",
        str(partial),
        "--rows",
        str(spec.rows),
        "--seed",
        str(spec.seed),
    ]
    if spec.date_ranges != "default":
        cmd += ["--date-ranges", spec.date_ranges]
    if spec.geometry:
        cmd += ["--geometry"]
    log(f"generating {spec.label}: {' '.join(cmd[2:])}")
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"lake generate failed for {spec.label}:\n{done.stderr[-2000:]}")
    partial.rename(path)  # only a complete file ever carries the cache name
    log(
        f"generated {path.name}: {path.stat().st_size / 1e6:.0f} MB "
        f"in {time.perf_counter() - start:.0f} s"
    )
    return path


def header_names(source: str) -> list[str]:
    """The header as the contract compares it (BOM and surrounding spaces removed), so that a
    peer can find the columns whatever their order and spacing in the file."""
    opener = gzip.open if source.endswith(".gz") else open
    with opener(source, "rt", encoding="utf-8", newline="") as f:
        return clean_header(next(csv.reader(f)))
