"""Read one export: its header on the driver (only the head of the object), then its rows with
Spark using an explicit all-string schema in the file's own column order (never inferSchema)."""

from __future__ import annotations

import csv
import gzip
import io
import zlib

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from contract import columns as c
from contract.errors import ContractViolation
from contract.values import resolve_header
from glue.storage import Storage

# Spark fills this column with the raw text of a row whose field count differs from the header.
CORRUPT_RECORD = "_corrupt_record"


def read_header(storage: Storage, source_path: str, source_key: str) -> list[str]:
    """The header's fields (BOM and CRLF tolerated, gzip by extension), reading only the head of
    the object. Raises ContractViolation for an empty, non-UTF-8 or broken-gzip file."""
    try:
        with storage.open_read(source_path) as raw:
            stream = gzip.GzipFile(fileobj=raw) if source_path.endswith(".gz") else raw
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
            header = next(csv.reader(text), None)
    except UnicodeDecodeError as e:
        raise ContractViolation(
            f"{source_key} is not UTF-8 text ({e.reason} at byte {e.start} of its first line). "
            "Export or save the file as UTF-8 and upload it again."
        ) from e
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ContractViolation(
            f"{source_key} ends in .gz but is not valid gzip ({e}). Compress it with gzip, or "
            "upload it uncompressed with a .csv name."
        ) from e
    if not header or not any(field.strip() for field in header):
        raise ContractViolation(
            f"{source_key} is empty: its first line must be the header naming the columns "
            f"{', '.join(c.SOURCE_COLUMNS)}."
        )
    return header


def export_schema(header: list[str], source_key: str) -> StructType:
    """All-string schema in file order: the contract's columns under their own names (so rejects
    keep them), other columns as `_extra_<position>`, plus the corrupt-record column. Raises
    MissingColumns, naming what is missing, before any Spark work."""
    positions = resolve_header(header, source=source_key)
    names = {position: name for name, position in positions.items()}
    fields = [
        StructField(names.get(position, f"_extra_{position}"), StringType())
        for position in range(len(header))
    ]
    return StructType([*fields, StructField(CORRUPT_RECORD, StringType())])


def read_export(spark: SparkSession, source_path: str, schema: StructType) -> DataFrame:
    """The export's data rows as strings, one Spark partition per file.

    multiLine parses the whole file as one RFC 4180 stream, so quoted newlines stay inside their
    field and row order is the file's (which makes row numbers exact); it is also what a gzip
    file needs anyway, as gzip cannot be split. The quote is escaped by doubling it (RFC 4180),
    not by Spark's default backslash."""
    return (
        spark.read.schema(schema)
        .option("header", True)
        .option("enforceSchema", True)  # the header was checked above; positions decide
        .option("multiLine", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("encoding", "UTF-8")
        .option("quote", '"')
        .option("escape", '"')
        .option("ignoreLeadingWhiteSpace", False)
        .option("ignoreTrailingWhiteSpace", False)
        .csv(source_path)
    )
