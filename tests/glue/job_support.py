"""The Glue job run on a curated bucket in a temp folder, and the table read back."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

import glue.job
from glue.job import JobArguments
from lake.ui.generate import generate


class Lake:
    """A curated bucket in a temp folder, and helpers to run the job and read the table back."""

    def __init__(self, root: Path):
        self.root = root
        self.curated = root / "curated"
        self.runs = 0

    def export(self, key: str, **options) -> tuple[Path, object]:
        path = self.root / "raw" / key
        return path, generate(path, **options)

    def run(self, spark, key: str, path: Path, **options) -> dict:
        self.runs += 1
        args = JobArguments(
            source_path=str(path),
            source_key=key,
            curated_path=str(self.curated),
            manifest_path=str(self.curated / "manifests" / f"run-{self.runs}" / "manifest.json"),
            **options,
        )
        return glue.job.run(spark, args)

    def table(self) -> pa.Table:
        folder = self.curated / "travel_times"
        if not folder.exists():
            return pa.table({"source_key": pa.array([], pa.string())})
        return ds.dataset(folder, format="parquet", partitioning="hive").to_table()

    def rows_of(self, key: str) -> list[dict]:
        rows = self.table().to_pylist()
        return sorted(
            (
                {k: v for k, v in r.items() if k != "ingested_at"}
                for r in rows
                if r["source_key"] == key
            ),
            key=lambda r: json.dumps(r, sort_keys=True, default=str),
        )
