"""Read one export: its header on the driver (only the head of the object), recognised as one of
the contract's formats, then its rows with Spark using an explicit all-string schema of
positional columns in the file's own order (never inferSchema)."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from contract import errors
from contract.formats import Recognised, recognise
from contract.limits import MAX_COLUMNS, MAX_FIELD_CHARS
from glue.object_store import ObjectStore
from glue.rows import CORRUPT_RECORD, source_column

csv.field_size_limit(MAX_FIELD_CHARS)  # the contract's bound on one field, as the validator's


def read_header(storage: ObjectStore, source_path: str, source_key: str) -> list[str]:
    """The header's fields (BOM and CRLF tolerated, gzip by extension), reading only the head of
    the object. Raises ContractViolation for an empty, non-UTF-8 or broken-gzip file."""
    try:
        with storage.open_read(source_path) as raw:
            stream = gzip.GzipFile(fileobj=raw) if source_path.endswith(".gz") else raw
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
            header = next(csv.reader(text), None)
    except UnicodeDecodeError as e:
        raise errors.NotUtf8(
            f"{source_key} is not UTF-8 text ({e.reason} at byte {e.start} of its first line). "
            "Export or save the file as UTF-8 and upload it again."
        ) from e
    except csv.Error as e:
        raise errors.FieldTooLarge(
            f"{source_key}: its header line has a field over {MAX_FIELD_CHARS:,} characters "
            f"({e}). Fix the file and upload it again."
        ) from e
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise errors.NotGzip(
            f"{source_key} ends in .gz but is not valid gzip ({e}). Compress it with gzip, or "
            "upload it uncompressed with a .csv name."
        ) from e
    if not header or not any(field.strip() for field in header):
        raise errors.EmptyFile(
            f"{source_key} is empty: its first line must be the header naming the export's columns."
        )
    return header


def recognised_format(header: list[str], source_key: str) -> Recognised:
    """The contract's format of this header (TooManyColumns, UnsupportedProduct or
    MissingColumns before any Spark work)."""
    if len(header) > MAX_COLUMNS:
        raise errors.TooManyColumns(
            f"{source_key}: its header has {len(header):,} columns, more than the "
            f"{MAX_COLUMNS:,} one run parses safely. Fix the file and upload it again."
        )
    return recognise(header, source=source_key)


def export_schema(header: list[str]) -> StructType:
    """All-string schema of positional columns (`_c0`, `_c1`, ...) plus the corrupt-record
    column: which position holds what is the format declaration's business."""
    fields = [StructField(source_column(position), StringType()) for position in range(len(header))]
    return StructType([*fields, StructField(CORRUPT_RECORD, StringType())])


def read_export(
    spark: SparkSession, source_path: str, schema: StructType, multi_line: bool = True
) -> DataFrame:
    """The export's data rows as strings.

    `multi_line=False` (a plain CSV the line survey found to be whole records line by line,
    `glue.lines`): Spark splits the file and parses the splits in parallel, each in file order.
    `multi_line=True`: the whole file is one RFC 4180 stream in one task, so a quoted line break
    stays inside its field. The quote is escaped by doubling it (RFC 4180), not by Spark's
    default backslash. Options: https://spark.apache.org/docs/3.5.1/sql-data-sources-csv.html"""
    return (
        spark.read.schema(schema)
        .option("header", True)
        .option("enforceSchema", True)  # the header was checked above; positions decide
        .option("multiLine", multi_line)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("encoding", "UTF-8")
        .option("quote", '"')
        .option("escape", '"')
        .option("ignoreLeadingWhiteSpace", False)
        .option("ignoreTrailingWhiteSpace", False)
        # The contract's bounds: past them the parser fails the read (rejected as the file's
        # fault by the job) instead of exhausting the executor's memory.
        .option("maxColumns", MAX_COLUMNS + 1)
        .option("maxCharsPerColumn", MAX_FIELD_CHARS)
        .csv(source_path)
    )


# How Spark's CSV parser (univocity) reports the bounds set above, in the Java error's text.
_TOO_MANY_COLUMNS = re.compile(
    rf"TextParsingException: java.lang.ArrayIndexOutOfBoundsException - Index {MAX_COLUMNS + 1}\b"
)
_PARSER_STATE = re.compile(r"Internal state when error was thrown: line=\d+, column=(\d+)")
_FIELD_TOO_LARGE = re.compile(
    rf"exceeds the maximum number of characters defined in your parser settings "
    rf"\({MAX_FIELD_CHARS}\)|Index {MAX_FIELD_CHARS} out of bounds for length {MAX_FIELD_CHARS}\b"
)


@contextlib.contextmanager
def parse_bounds(source_key: str) -> Iterator[None]:
    """Turn the parser's failure at the contract's bounds (a row past MAX_COLUMNS fields, a field
    past MAX_FIELD_CHARS, seen only once the whole file is read) into the file's rejection."""
    try:
        yield
    except Exception as e:
        text = str(e)
        column = _column_of_a_bare_bounds_failure(text)
        if _TOO_MANY_COLUMNS.search(text) or (column or 0) > MAX_COLUMNS:
            raise errors.TooManyColumns(
                f"{source_key}: a row has more than {MAX_COLUMNS:,} fields, more than one run "
                "parses safely (an unbalanced quote can also join many lines into one). Fix the "
                "file and upload it again."
            ) from None
        if _FIELD_TOO_LARGE.search(text) or column is not None:
            raise errors.FieldTooLarge(
                f"{source_key}: a field is longer than {MAX_FIELD_CHARS:,} characters, more than "
                "one run parses safely (an unbalanced quote can also make one field of the rest "
                "of the file). Fix the file and upload it again."
            ) from None
        raise


def _column_of_a_bare_bounds_failure(text: str) -> int | None:
    """The column the parser had reached when a bound failed without a message, else None.

    After many throws at one site HotSpot raises a preallocated ArrayIndexOutOfBoundsException
    with no message (OmitStackTraceInFastThrow); univocity overflows only its column array (past
    MAX_COLUMNS) or its field buffer (past MAX_FIELD_CHARS), so the column tells which."""
    state = _PARSER_STATE.search(text)
    if "TextParsingException: java.lang.ArrayIndexOutOfBoundsException - null" in text and state:
        return int(state.group(1))
    return None
