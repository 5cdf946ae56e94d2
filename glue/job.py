"""One run of the ingest job: read one export, check and cast its rows, stage the Parquet and the
rejects, publish them for the source key, and write the manifest.

The CSV is parsed once for a clean file: the counts by reason are observed while the table rows
are written (`DataFrame.observe`); only a file with rejects is read a second time, to write them."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from contract import columns as c
from contract.errors import TooManyRejects
from contract.layout import parse_source_key
from glue import transform
from glue.arguments import JobArguments
from glue.logs import log_event
from glue.manifest import build_manifest, write_manifest
from glue.partition import PARTITION_NAMES, Partition
from glue.publish import StagedFile, publish, staging_path
from glue.read import export_schema, read_export, read_header
from glue.storage import Storage, join, storage_for

__all__ = ["JobArguments", "classified_rows", "run"]

# Job-wide SQL settings: non-ANSI as on Glue 5.1 (a bad cast gives null, never fails the job);
# Parquet timestamps as INT64 microseconds (the standard type; INT96 is deprecated); and no
# whole-stage code over 8000 bytes of bytecode, the most the JVM compiles: the checks make one
# large projection, which otherwise ran interpreted, about twice as slow as Spark's fallback.
SQL_SETTINGS = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.codegen.hugeMethodLimit": "8000",
}


def run(spark: SparkSession, args: JobArguments) -> dict:
    """Ingest `args.source_path` as the new version of `args.source_key` and return the manifest
    (also written at `args.manifest_path`). Raises ContractViolation (MissingColumns,
    InvalidSourceKey, TooManyRejects, ...) with a message for the uploader; the table is then
    left as it was."""
    started_at = dt.datetime.now(dt.UTC)
    run_id = args.run_id or uuid.uuid4().hex
    curated = _normalized(args.curated_path)
    source = parse_source_key(args.source_key)
    context = {"source_key": args.source_key, "run_id": run_id}
    log_event("started", **context, source_path=args.source_path, curated_path=curated)

    header = read_header(storage_for(args.source_path), args.source_path, args.source_key)
    schema = export_schema(header, args.source_key)
    log_event("header resolved", **context, columns=header)

    counts = Observation(f"counts_{run_id}")
    classified = classified_rows(spark, args.source_path, schema, counts)
    table = transform.table_rows(classified, args.source_key, source.city, started_at)

    storage = storage_for(curated)
    staging = staging_path(curated, run_id)
    try:
        (
            transform.sorted_for_parquet(table)
            .write.mode("overwrite")
            .partitionBy(*PARTITION_NAMES)
            .option("compression", "snappy")
            .parquet(join(staging, "table"))
        )
        observed = counts.get
        rows_read = observed["read"]
        by_reason = {reason: observed[reason] for reason in c.REJECT_REASONS}
        log_event("counted", **context, read=rows_read, rejected_by_reason=by_reason)
        _check_rejects(args, rows_read, by_reason, classified)
        if any(by_reason.values()):
            _write_rejects(classified, join(staging, "rejects"))
        staged_files, partition_rows = _staged_table(spark, storage, join(staging, "table"))
        staged_rejects = [u for u in storage.list(join(staging, "rejects/")) if u.endswith(".csv")]
        log_event("staged", **context, files=len(staged_files), partitions=len(partition_rows))
    except BaseException:
        storage.delete_prefix(staging + "/")  # nothing of this run was published
        raise

    publication = publish(storage, curated, args.source_key, run_id, staged_files, staged_rejects)
    files_by_partition: dict[Partition, int] = {}
    for staged in staged_files:
        files_by_partition[staged.partition] = files_by_partition.get(staged.partition, 0) + 1
    manifest = build_manifest(
        args,
        run_id,
        started_at,
        dt.datetime.now(dt.UTC),
        by_reason,
        rows_read,
        partition_rows,
        files_by_partition,
        publication,
    )
    write_manifest(storage_for(args.manifest_path), args.manifest_path, manifest)
    log_event(
        "manifest written",
        **context,
        manifest_path=args.manifest_path,
        rows=manifest["rows"],
        partitions_written=len(manifest["partitions_written"]),
        partitions_emptied=len(manifest["partitions_emptied"]),
    )
    return manifest


def classified_rows(
    spark: SparkSession, source_path: str, schema: StructType, counts: Observation
) -> DataFrame:
    """The export's rows checked and cast (`transform.classify`), counted by reason into `counts`
    when first read, with the job's SQL settings applied to the session.

    Every reader of these rows goes through `observe`, and not only for the counts: it also stops
    Spark from pushing the filters on reject_reason below the projection, where the reason's whole
    expression would be inlined into the filter without its shared parts computed once
    (measured: the rejects pass of a 1M-row file took 3 min instead of 10 s)."""
    for key, value in SQL_SETTINGS.items():
        spark.conf.set(key, value)
    classified = transform.classify(
        transform.distributed_by_start_date(read_export(spark, source_path, schema))
    )
    return classified.observe(counts, *transform.reason_counts(classified))


def _normalized(uri: str) -> str:
    # Local locations become absolute paths, so that every path derived from them compares equal.
    if "://" in uri and not uri.startswith("file://"):
        return uri.rstrip("/")
    return str(Path(uri.removeprefix("file://")).resolve())


def _check_rejects(args: JobArguments, read: int, by_reason: dict[str, int], classified) -> None:
    rejected = sum(by_reason.values())
    if read == 0:
        raise TooManyRejects(
            f"{args.source_key} has a header but no data rows: nothing to ingest. Upload the "
            "export with its rows to the same key."
        )
    if rejected < read and rejected / read <= args.reject_threshold:
        return
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in by_reason.items() if n)
    first = (
        classified.where(F.col(transform.REJECT_REASON).isNotNull())
        .select(transform.SOURCE_ROW, transform.REJECT_REASON)
        .limit(5)
        .collect()
    )
    examples = ", ".join(
        f"row {r[transform.SOURCE_ROW]} ({r[transform.REJECT_REASON]})" for r in first
    )
    share = "all" if rejected == read else f"{rejected / read:.2%} of the"
    raise TooManyRejects(
        f"{args.source_key}: {rejected:,} of {read:,} rows ({share} rows) break the data "
        f"contract, more than the {args.reject_threshold:.2%} allowed: {reasons}. First rows "
        f"set aside (counting data rows from 1 under the header): {examples}. Nothing was "
        "written to the table. Fix or remove those rows and upload the file again to the same "
        "key (it replaces the earlier version), or run the job with a higher --reject_threshold."
    )


def _write_rejects(classified, path: str) -> None:
    (
        transform.rejected_rows(classified)
        .write.mode("overwrite")
        .option("header", True)
        .option("quote", '"')
        .option("escape", '"')
        .csv(path)
    )


def _staged_table(
    spark: SparkSession, storage: Storage, path: str
) -> tuple[list[StagedFile], dict[Partition, int]]:
    """The staged Parquet files and the rows per partition (read from the files' footers)."""
    root = path.rstrip("/") + "/"
    files = [
        StagedFile(uri, Partition.from_path(uri[len(root) :]))
        for uri in storage.list(root)
        if uri.endswith(".parquet")
    ]
    rows = {
        Partition(r.city, r.year, r.month, r.day): r["count"]
        for r in spark.read.schema(transform.TABLE_SCHEMA)
        .parquet(path)
        .groupBy(*PARTITION_NAMES)
        .count()
        .collect()
    }
    return files, rows
