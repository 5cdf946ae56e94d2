"""The job's arguments, from AWS Glue (`getResolvedOptions`) or a plain command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, fields

from contract.columns import DEFAULT_DATABASE, DEFAULT_REJECT_THRESHOLD, TABLE_NAME
from contract.limits import DEFAULT_MAX_INFLATED_BYTES

# Passed per run by the workflow (source_*, manifest_path) or as job default arguments.
REQUIRED = ("source_path", "source_key", "curated_path", "manifest_path")
OPTIONAL = (
    "database",
    "table",
    "reject_threshold",
    "max_inflated_bytes",
    "run_id",
    "source_object",
)


@dataclass(frozen=True)
class JobArguments:
    """What one run ingests and where it writes.

    source_path: the raw object's URI (s3://bucket/key, file:///..., or a local path).
    source_key: the raw key, e.g. `travel_times/bogota/2019-q2.csv`: the file's identity.
    curated_path: URI of the curated bucket root; manifest_path: URI of the manifest to write.
    run_id: names this run's files; a fresh random one by default.
    source_object: the event's `detail.object` as JSON (key, size, etag, version-id, sequencer):
    which version of the key this run is about."""

    source_path: str
    source_key: str
    curated_path: str
    manifest_path: str
    database: str = DEFAULT_DATABASE
    table: str = TABLE_NAME
    reject_threshold: float = DEFAULT_REJECT_THRESHOLD
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES
    run_id: str | None = None
    source_object: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.reject_threshold <= 1.0:
            raise ValueError(
                f"reject_threshold must be a share between 0 and 1, got {self.reject_threshold}"
            )
        missing = [name for name in REQUIRED if not getattr(self, name)]
        if missing:
            raise ValueError(f"missing job argument(s): {', '.join('--' + m for m in missing)}")

    @classmethod
    def from_options(cls, options: dict[str, str]) -> JobArguments:
        """From name -> text (as getResolvedOptions returns them); unknown names are ignored."""
        known = {f.name for f in fields(cls)}
        values: dict = {k: v for k, v in options.items() if k in known and v not in (None, "")}
        if "reject_threshold" in values:
            values["reject_threshold"] = float(values["reject_threshold"])
        if "max_inflated_bytes" in values:
            values["max_inflated_bytes"] = int(values["max_inflated_bytes"])
        return cls(**values)


def parse_command_line(argv: Sequence[str]) -> JobArguments:
    """`--name value` (or `--name=value`) pairs; other arguments (Glue adds its own) are ignored."""
    parser = argparse.ArgumentParser(
        prog="ingest_travel_times.py",
        description="Ingest one Uber Movement travel-times export into the Parquet lake.",
    )
    for name in REQUIRED:
        parser.add_argument(f"--{name}", required=True)
    for name in OPTIONAL:
        parser.add_argument(f"--{name}")
    known, _ = parser.parse_known_args(list(argv))
    return JobArguments.from_options(vars(known))


def parse_glue_arguments(argv: Sequence[str]) -> tuple[str, JobArguments]:
    """The Glue job name and arguments, through awsglue's getResolvedOptions (which fails on a
    name it is asked for but not given, so optional names are asked for only when present)."""
    from awsglue.utils import getResolvedOptions

    present = [
        name
        for name in OPTIONAL
        if any(a == f"--{name}" or a.startswith(f"--{name}=") for a in argv)
    ]
    options = getResolvedOptions(list(argv), ["JOB_NAME", *REQUIRED, *present])
    return options["JOB_NAME"], JobArguments.from_options(options)
