"""The line survey: one cheap, parallel pass over the plain CSV's lines that says whether Spark may
read the file split (line by line, every core) with exactly the rows of a multiLine read, and
where each split's rows start in the file, so that every row keeps its exact `source_row`.

A split read is exact when every line is a whole record. RFC 4180 escapes a quote inside a quoted
field by doubling it, so a line whose quotes do not pair up as whole quoted fields holds part of a
field that spans lines (https://www.rfc-editor.org/rfc/rfc4180#section-2). The survey is strict:
a line with a quote anywhere but around whole fields, a carriage return inside a line, or a line
of whitespace alone (which the line reader skips and the multiLine parser does not) all send the
file to the multiLine read, which is what every file got before.

Numbering: `monotonically_increasing_id` puts the partition id in the upper 31 bits and the row's
index within its partition in the lower 33
(https://spark.apache.org/docs/3.5.1/api/python/reference/pyspark.sql/api/pyspark.sql.functions.monotonically_increasing_id.html).
The survey counts the data lines of each split (one row per split comes back to the driver), and
`first_rows` maps each split's start offset (`input_file_block_start`) to the number to add to
the index for the row's place in the file."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

INDEX_BITS = 33  # monotonically_increasing_id: the index within the partition's lower bits
# A line of whole fields: unquoted ones without quotes, quoted ones with quotes doubled, then an
# optional CR (of a CRLF ending). Possessive quantifiers: no backtracking on a long field.
# The quoted branch comes first: a possessive group never returns to try the other branch.
_FIELD = r'(?:"(?:[^"]++|"")*+"|[^",\r]*+)'
_WHOLE_RECORD = rf"^{_FIELD}(?:,{_FIELD})*+\r?$"
_BLANK = r"^[\x00-\x20]*$"  # what Java's String.trim leaves empty: the line reader skips it


@dataclass(frozen=True)
class LineSurvey:
    """The survey's verdict: `splittable` when every line is a whole record; then `first_rows`,
    per split start offset, the number that turns a row's index within its partition into its
    `source_row` minus one (for a multiLine read: the one partition, from 0)."""

    splittable: bool
    first_rows: dict[int, int] = field(default_factory=lambda: {0: 0})
    splits: int = 1
    why: str = "every line a whole record"
    # A file Spark reads in one split: one task holds all its rows, and spreading them over the
    # cores would cost more than their checks (`glue.rows.distributed_by_start_date`).
    small: bool = False

    @property
    def read(self) -> str:
        """How the file is read, and why: for the job's log."""
        return f"{'split' if self.splittable else 'multiLine'} ({self.why})"


def _unsafe(line: Column) -> Column:
    """True for a line that may not be a whole record (cheap tests first: Spark evaluates the
    right side of `&` only when the left is true)."""
    # `contains` is a plain byte loop; `instr` counts characters as it goes (10M rows, warm:
    # the survey took 20.2 s instead of 21.6 s, median of 3).
    quoted = line.contains('"')
    inner_cr = line.contains("\r") & (F.instr(line, "\r") < F.length(line))
    # Whitespace alone (not the empty line, nor the CR alone of an empty CRLF line).
    blank_not_empty = (F.ascii(line) <= 32) & line.rlike(_BLANK) & ~line.isin("", "\r")
    return (quoted & ~line.rlike(_WHOLE_RECORD)) | inner_cr | blank_not_empty


def _counted(line: Column) -> Column:
    """A line the CSV line reader parses as a record (it skips lines Java's trim leaves empty)."""
    return (F.ascii(line) > 32) | ~line.rlike(_BLANK)


def survey_lines(spark: SparkSession, source_path: str) -> LineSurvey:
    """Survey the plain CSV at `source_path` (its first counted line is the header). The text
    read splits the file exactly as the CSV read will (both are Spark's file scan of one
    splittable file, so the same splits land in the same partitions); lines are cut at LF only,
    so a CR shows where it sits. A file Spark would read in one split anyway is not surveyed:
    the multiLine read is then just as parallel, and the survey's pass (about half a second
    for a small file) is saved."""
    if _one_split(spark, source_path):
        return LineSurvey(
            splittable=False, why="one split: nothing to read in parallel", small=True
        )
    text = spark.read.option("lineSep", "\n").text(source_path)
    line = F.col("value")
    per_split = (
        text.select(
            F.spark_partition_id().alias("partition"),
            F.input_file_block_start().alias("start"),
            F.monotonically_increasing_id().alias("scan_order"),
            _counted(line).cast("long").alias("counted"),
            _unsafe(line).alias("unsafe"),
        )
        .groupBy("partition", "start")
        .agg(
            F.sum("counted").alias("counted"),
            F.min("scan_order").alias("scan_order"),
            F.max("unsafe").alias("unsafe"),
        )
        .collect()  # one row per split: a 2 GB file in 128 MB splits gives 16
    )
    if not per_split or any(row["unsafe"] for row in per_split):
        return LineSurvey(splittable=False, why="a line may hold part of a quoted field")
    return LineSurvey(True, first_rows(per_split), len(per_split))


def _one_split(spark: SparkSession, source_path: str) -> bool:
    """True when Spark's file scan reads the whole file as one split: a file of at most
    `spark.sql.files.openCostInBytes` (4 MB by default), since a split is never cut smaller
    than that nor larger than `maxPartitionBytes` (Spark's FilePartition.maxSplitBytes:
    https://spark.apache.org/docs/3.5.1/sql-performance-tuning.html#other-configuration-options)."""
    conf = spark._jsparkSession.sessionState().conf()
    path = spark._jvm.org.apache.hadoop.fs.Path(source_path)
    size = path.getFileSystem(spark._jsc.hadoopConfiguration()).getFileStatus(path).getLen()
    return size <= min(conf.filesOpenCostInBytes(), conf.filesMaxPartitionBytes())


def first_rows(per_split: list) -> dict[int, int]:
    """Per split start: (data rows of the file before the split) - (rows of the same partition
    read before it). The header is the file's first counted line, in the split starting at 0,
    and the CSV read drops it there."""
    data_rows = {
        row["start"]: int(row["counted"] or 0) - (1 if row["start"] == 0 else 0)
        for row in per_split
    }
    before_in_file, total = {}, 0
    for start in sorted(data_rows):
        before_in_file[start], total = total, total + data_rows[start]
    before_in_partition: dict[int, int] = {}
    read: dict[int, int] = {}
    for row in sorted(per_split, key=lambda r: r["scan_order"]):
        part = row["partition"]
        before_in_partition[row["start"]] = read.get(part, 0)
        read[part] = read.get(part, 0) + data_rows[row["start"]]
    return {start: before_in_file[start] - before_in_partition[start] for start in data_rows}


def numbered(raw: DataFrame, survey: LineSurvey, source_row: str) -> DataFrame:
    """`raw` (the CSV read, straight from its scan) with `source_row`: 1 for the first data
    row. Evaluated next to the scan, where the split's start is known."""
    index = F.monotonically_increasing_id().bitwiseAND(F.lit((1 << INDEX_BITS) - 1))
    if survey.first_rows == {0: 0}:
        offset = F.lit(0)
    else:
        pairs = [F.lit(x) for item in sorted(survey.first_rows.items()) for x in item]
        known = F.element_at(F.create_map(*pairs), F.input_file_block_start())
        # A split the survey did not see would number its rows wrong: fail loudly instead.
        offset = F.coalesce(known, F.raise_error(F.lit("a split the line survey did not see")))
    return raw.select("*", (offset + index + 1).alias(source_row))
