"""One run of the ingest job: read one export through its format's declaration, drop exact
duplicates, check and cast its rows, stage the Parquet and the rejects, publish them for the
source key, and write the manifest.

The CSV is parsed once for a clean file: the counts by verdict are observed while the table rows
are written (`DataFrame.observe`); only a file with rejects is read a second time, to write them."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from py4j.java_gateway import java_import
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from contract import columns as c
from contract.errors import CityMismatch, FileNotFound, NoDataRows, TooManyRejects
from contract.formats import Recognised
from contract.layout import city_folder, city_key, parse_source_key
from contract.manifest import RowCounts
from glue import rows
from glue.arguments import JobArguments
from glue.lines import LineSurvey, survey_lines
from glue.logs import log_event
from glue.manifest import build_manifest, write_manifest
from glue.object_store import ObjectStore, VersionGone, join, storage_for
from glue.partition import CITY_NAME, DATE_PARTITION_NAMES, PARTITION_NAMES, Partition
from glue.publish import (
    Publication,
    StagedFile,
    newer_version,
    publish,
    read_record,
    staging_path,
)
from glue.read import export_schema, parse_bounds, read_export, read_header, recognised_format
from glue.source import PinnedSource, SourceVersion, pin_source
from glue.stages import HUGE_METHOD_LIMIT

__all__ = ["JobArguments", "classified_rows", "run"]

# Job-wide SQL settings: non-ANSI as on Glue 5.1 (a bad cast gives null, never fails the job);
# Parquet timestamps as INT64 microseconds (the standard type; INT96 is deprecated); and no
# whole-stage code over 8000 bytes of bytecode, the most the JVM compiles: a larger method ran
# interpreted, about twice as slow as Spark's fallback (`glue.stages` keeps the checks under it).
# The shuffle by start date hashes each date into one of 128 buckets that adaptive execution
# then merges into tasks of a useful size; a date is never split, so each partition is still
# one file. With the session's 16 buckets (2 cores), two dates shared a bucket in nearly every
# file (10 dates: 97%): the generated 10M-row file's 10 dates fell into 7 buckets, one holding a
# third of the rows, and one core ran it alone at the end. With 128, ten dates share none 70% of
# the time, and a shared bucket is a smaller share of the work. Measured on that file (bench.tune,
# 10M rows warm): 256.5 s -> 215.1 s, CPU/wall 1.69 -> 1.84; 1M and 20k rows: no change.
# (https://spark.apache.org/docs/3.5.1/sql-performance-tuning.html#coalescing-post-shuffle-partitions)
DATE_BUCKETS = 128
SQL_SETTINGS = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.codegen.hugeMethodLimit": str(HUGE_METHOD_LIMIT),
    "spark.sql.adaptive.coalescePartitions.initialPartitionNum": str(DATE_BUCKETS),
}


class Counting:
    """The observations of one run: data rows read (before duplicates are dropped), distinct
    rows, and the verdicts of the logical rows (and their city names, when the format has any)."""

    def __init__(self, run_id: str) -> None:
        self.read = Observation(f"read_{run_id}")
        self.distinct = Observation(f"distinct_{run_id}")
        self.verdicts = Observation(f"verdicts_{run_id}")

    def counts(self) -> RowCounts:
        read, distinct, verdicts = self.read.get, self.distinct.get, self.verdicts.get
        return RowCounts(
            read=read["rows"],
            duplicate_rows=read["rows"] - distinct["rows"],
            no_measurement=verdicts[c.NO_MEASUREMENT],
            written=verdicts["valid"],
            rejected_by_reason={reason: verdicts[reason] for reason in c.REJECT_REASONS},
        )

    def cities(self) -> tuple[str | None, str | None]:
        verdicts = self.verdicts.get
        return verdicts.get("city_min"), verdicts.get("city_max")


@dataclass(frozen=True)
class Staged:
    """A run's output in its staging area, ready to publish."""

    counts: RowCounts = field(default_factory=RowCounts)
    source_format: str | None = None
    files: list[StagedFile] = field(default_factory=list)
    partition_rows: dict[Partition, int] = field(default_factory=dict)
    rejects: list[str] = field(default_factory=list)

    @property
    def files_by_partition(self) -> dict[Partition, int]:
        return dict(Counter(staged.partition for staged in self.files))


class Superseded(Exception):
    """A newer upload of the key is published, or is the key's version now: publish nothing."""

    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


def run(spark: SparkSession, args: JobArguments) -> dict:
    """Ingest the event's version of `args.source_key` (at `args.source_path`) as the key's new
    version and return the manifest (also written at `args.manifest_path`). Raises a
    `contract.errors.FileRejected` (MissingColumns, UnsupportedProduct, CityMismatch,
    TooManyRejects, InflatesTooLarge, ...) with a message for the uploader; the table is then
    left as it was. A run of an upload older than the one published publishes nothing."""
    started_at = dt.datetime.now(dt.UTC)
    run_id = args.run_id or uuid.uuid4().hex
    curated = _normalized(args.curated_path)
    log_event(
        "started",
        source_key=args.source_key,
        run_id=run_id,
        source_path=args.source_path,
        curated_path=curated,
    )
    raw, storage = storage_for(args.source_path), storage_for(curated)
    event = SourceVersion.from_event_object(args.source_object)
    current = functools.partial(raw.current_version, args.source_path)
    staging = staging_path(curated, run_id)
    try:
        # An upload older than the table's stops before any Spark work (publish checks again).
        newer = newer_version(read_record(storage, curated, args.source_key), event, current)
        if newer is not None:
            raise Superseded(newer)
        pinned = _pinned(raw, storage, args, event, staging)
        staged = _stage(spark, storage, args, run_id, started_at, pinned.uri, staging)
    except Superseded as e:
        storage.delete_prefix(staging + "/")
        publication = Publication([], [], [], None, None, superseded_by=e.by)
        return _finish(args, run_id, started_at, curated, publication, Staged())
    except BaseException:
        storage.delete_prefix(staging + "/")  # nothing of this run was published
        raise
    version = replace(event, version_id=pinned.version_id or None)
    publication = publish(
        storage, curated, args.source_key, run_id, version, current, staged.files, staged.rejects
    )
    return _finish(args, run_id, started_at, curated, publication, staged)


def _pinned(
    raw: ObjectStore, storage: ObjectStore, args: JobArguments, event: SourceVersion, staging: str
) -> PinnedSource:
    """The run's copy of the event's version (Superseded when a newer upload replaced it)."""
    try:
        return pin_source(
            raw,
            args.source_path,
            args.source_key,
            event,
            storage,
            staging,
            args.max_inflated_bytes,
        )
    except VersionGone:
        now = raw.current_version(args.source_path)
        if now is None:
            raise FileNotFound(
                f"{args.source_path} no longer exists: it was deleted after its upload started "
                "this run. Upload it again to the same key to process it."
            ) from None
        raise Superseded(now) from None


def _stage(
    spark: SparkSession,
    storage: ObjectStore,
    args: JobArguments,
    run_id: str,
    started_at: dt.datetime,
    source: str,
    staging: str,
) -> Staged:
    """Read, check and cast the pinned source; stage its table rows and its rejects."""
    context = {"source_key": args.source_key, "run_id": run_id}
    header = read_header(storage, source, args.source_key)
    recognised = recognised_format(header, args.source_key)
    log_event("format recognised", **context, format=recognised.format.name, columns=header)
    city = parse_source_key(args.source_key).city
    counting = Counting(run_id)
    survey = survey_lines(spark, source)
    log_event(
        "read planned",
        **context,
        read=survey.read,
        splits=survey.splits,
    )
    with parse_bounds(args.source_key):
        classified = classified_rows(spark, source, header, recognised, counting, survey)
        table = rows.table_rows(
            classified,
            args.source_key,
            city,
            started_at,
            recognised.format.name,
            with_source_row=True,
        )
        # The run's one city is a folder; Spark partitions by the date alone, which the rows
        # are grouped by (`rows.in_write_order`): the writer sorts nothing.
        (
            rows.in_write_order(table, unpivoted=bool(recognised.format.periods))
            .drop(CITY_NAME)
            .write.mode("overwrite")
            .partitionBy(*DATE_PARTITION_NAMES)
            .option("compression", "snappy")
            .parquet(join(staging, "table", city_folder(city)))
        )
        counts = counting.counts()
        log_event("counted", **context, **counts.as_json())
        _check_city(args, city, counting)
        _check_rejects(args, counts, classified)
        if counts.rejected:
            _write_rejects(classified, recognised, join(staging, "rejects"))
    files, partition_rows = _staged_table(spark, storage, join(staging, "table"))
    rejects = [u for u in storage.list(join(staging, "rejects/")) if u.endswith(".csv")]
    log_event("staged", **context, files=len(files), partitions=len(partition_rows))
    return Staged(counts, recognised.format.name, files, partition_rows, rejects)


def _finish(
    args: JobArguments,
    run_id: str,
    started_at: dt.datetime,
    curated: str,
    publication: Publication,
    staged: Staged,
) -> dict:
    """Write the run's manifest, statements and summary; the manifest with its summary."""
    manifest = build_manifest(
        args,
        run_id,
        started_at,
        dt.datetime.now(dt.UTC),
        staged.counts,
        staged.source_format,
        staged.partition_rows,
        staged.files_by_partition,
        publication,
    )
    manifest_path = _normalized(args.manifest_path)
    summary = write_manifest(
        storage_for(manifest_path), manifest_path, curated, manifest, args.database, args.table
    )
    log_event(
        "manifest written",
        source_key=args.source_key,
        run_id=run_id,
        manifest_path=manifest_path,
        rows=summary["rows"],
        partitions_written=summary["partitions_written"],
        partitions_emptied=summary["partitions_emptied"],
        register_statements=len(summary["register_statements"]),
        superseded_by=publication.superseded_by,
    )
    return {**manifest, "summary": summary}


def classified_rows(
    spark: SparkSession,
    source_path: str,
    header: list[str],
    recognised: Recognised,
    counting: Counting,
    survey: LineSurvey | None = None,
) -> DataFrame:
    """The export's logical rows checked and cast (`rows.classify`), counted into `counting`
    when first read, with the job's SQL settings applied to the session. Read split when
    `survey` (`glue.lines.survey_lines`) found every line a whole record, else multiLine.

    Every reader of these rows goes through `observe`, and not only for the counts: it also stops
    Spark from pushing the filters on reject_reason below the projection, where the reason's whole
    expression would be inlined into the filter without its shared parts computed once
    (measured: the rejects pass of a 1M-row file took 3 min instead of 10 s)."""
    for key, value in SQL_SETTINGS.items():
        spark.conf.set(key, value)
    _import_functions_by_name(spark)
    split = survey is not None and survey.splittable
    raw = read_export(spark, source_path, export_schema(header), multi_line=not split)
    read = rows.numbered(raw, survey if split else None).observe(
        counting.read, F.count(F.lit(1)).alias("rows")
    )
    one_task = survey is not None and survey.small
    distinct = rows.distributed_by_start_date(read, recognised, one_task).observe(
        counting.distinct, F.count(F.lit(1)).alias("rows")
    )
    logical = rows.logical_rows(distinct, recognised)
    classified = rows.classify(logical, recognised.format.single_date)
    return classified.observe(
        counting.verdicts, *rows.verdict_counts(classified), *rows.city_range(classified)
    )


def _import_functions_by_name(spark: SparkSession) -> None:
    """Let Py4J find `functions` by its full name. Every `pyspark.sql.functions` call looks the
    class up by its simple name, and Py4J then tries each package PySpark imports, where each
    miss searches all of Spark's jars: 1.4 ms per `F.lit` here, 0.55 ms with this import. The
    job builds its checks with a few thousand such calls, which took about a second of a small
    file's warm run (measured with Java Flight Recorder)."""
    java_import(spark.sparkContext._jvm, "org.apache.spark.sql.functions")


def _normalized(uri: str) -> str:
    # Local locations become absolute paths, so that every path derived from them compares equal.
    if "://" in uri and not uri.startswith("file://"):
        return uri.rstrip("/")
    return str(Path(uri.removeprefix("file://")).resolve())


def _check_city(args: JobArguments, folder: str, counting: Counting) -> None:
    """A `city` column names the folder's city in every row (CityMismatch, naming both)."""
    lowest, highest = counting.cities()
    for name in {n for n in (lowest, highest) if n is not None}:
        if city_key(name) != city_key(folder):
            raise CityMismatch(
                f"{args.source_key}: its city column says {name!r} but the file is in the folder "
                f"of {folder!r}. Upload it to the folder of its city, or fix the city column, then "
                "upload it again."
            )


def _check_rejects(args: JobArguments, counts: RowCounts, classified: DataFrame) -> None:
    """Fail the run when more than the threshold's share of the measured rows (written or
    rejected; duplicates and rows without a measurement count neither way), or all of them,
    break the contract."""
    if counts.read == 0:
        raise NoDataRows(
            f"{args.source_key} has a header but no data rows: nothing to ingest. Upload the "
            "export with its rows to the same key."
        )
    rejected, measured = counts.rejected, counts.rejected + counts.written
    if rejected == 0 or (rejected < measured and rejected / measured <= args.reject_threshold):
        return
    reasons = ", ".join(f"{r} {n:,}" for r, n in counts.rejected_by_reason.items() if n)
    first = (
        classified.where(F.col(rows.REJECT_REASON).isin(*c.REJECT_REASONS))
        .select(rows.SOURCE_ROW, rows.REJECT_REASON)
        .orderBy(rows.SOURCE_ROW)
        .limit(5)
        .collect()
    )
    examples = ", ".join(f"row {r[rows.SOURCE_ROW]} ({r[rows.REJECT_REASON]})" for r in first)
    share = "all" if rejected == measured else f"{rejected / measured:.2%} of the"
    raise TooManyRejects(
        f"{args.source_key}: {rejected:,} of {measured:,} rows ({share} rows) break the data "
        f"contract, more than the {args.reject_threshold:.2%} allowed: {reasons}. First rows "
        f"set aside (counting data rows from 1 under the header): {examples}. Nothing was "
        "written to the table. Fix or remove those rows and upload the file again to the same "
        "key (it replaces the earlier version), or run the job with a higher --reject_threshold."
    )


def _write_rejects(classified: DataFrame, recognised: Recognised, path: str) -> None:
    (
        rows.rejected_rows(classified, recognised.format.fields())
        .write.mode("overwrite")
        .option("header", True)
        .option("quote", '"')
        .option("escape", '"')
        .csv(path)
    )


def _staged_table(
    spark: SparkSession, storage: ObjectStore, path: str
) -> tuple[list[StagedFile], dict[Partition, int]]:
    """The staged Parquet files and the rows per partition (read from the files' footers)."""
    root = path.rstrip("/") + "/"
    files = [
        StagedFile(uri, Partition.from_path(uri[len(root) :]))
        for uri in storage.list(root)
        if uri.endswith(".parquet")
    ]
    partition_rows = {
        Partition(r.city, r.year, r.month, r.day): r["count"]
        for r in spark.read.schema(rows.TABLE_SCHEMA)
        .parquet(path)
        .groupBy(*PARTITION_NAMES)
        .count()
        .collect()
    }
    return files, partition_rows
