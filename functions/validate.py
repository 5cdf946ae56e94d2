"""The first state of the workflow: check one uploaded export against the data contract before any
Spark work is paid for, reading only the head of the object.

In: the S3 "Object Created" event as EventBridge delivers it. Out: what the Glue job needs
(bucket, key, city, source_path, size) plus what was learned (version, compression, columns, the
sample's counts). A file that breaks the contract raises a named error from `contract.errors`
whose message names the file, says what is wrong and how to fix it. Reading the object's head
(the event, S3, gzip, UTF-8) is `functions.object_head`; this module checks what it holds.

The same handler runs in Lambda and in the local runtime: `make_handler` builds it over the S3
client it is handed (boto3's on AWS, one over the lake home's folders locally), so S3 is used only
through `head_object` and a ranged `get_object`."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from contract import columns as c
from contract import errors
from contract.formats import Recognised, logical_rows, recognise
from contract.layout import SourceKey, city_key, parse_source_key
from contract.limits import MAX_COLUMNS, MAX_FIELD_CHARS
from contract.values import clean_header, reject_reason
from functions.entry import Handler, built_on_first_call
from functions.object_head import (
    HEAD_BYTES,
    ObjectRef,
    Text,
    decode_head,
    object_from_event,
    read_head,
)

SAMPLE_ROWS = 1000
VALID = "valid"

tracer = Tracer()

REASON_HINTS = {
    c.MALFORMED_ROW: "each row must have as many fields as the header; quote values that "
    'contain commas or quotes (RFC 4180: "Zone 1, North")',
    c.MISSING_FIELD: "every row needs its origin and destination Movement IDs and its Date Range "
    "(or Date)",
    c.BAD_MOVEMENT_ID: "Movement IDs must be positive whole numbers",
    c.BAD_DATE_RANGE: "Date Range must be 'M/D/YYYY - M/D/YYYY' optionally followed by "
    "', <days>, <time of day>', e.g. '6/1/2019 - 6/30/2019, Weekdays, Daily Average', with "
    "years from 1900 to 2100 (a daily export's Date: 'M/D/YYYY')",
    c.BAD_TRAVEL_TIME: "travel times and distances must be finite non-negative numbers without "
    "sign or exponent (the bounds may be empty)",
}
# The csv module refuses a field over its limit: exactly the contract's bound.
csv.field_size_limit(MAX_FIELD_CHARS)


def check_key(ref: ObjectRef) -> SourceKey:
    try:
        return parse_source_key(ref.key)
    except errors.InvalidSourceKey as e:
        raise errors.InvalidSourceKey(
            f"{ref.source_path}: {e} Move or copy the file to a key that follows this layout; "
            "that upload starts a new run."
        ) from e


def read_records(text: Text, ref: ObjectRef) -> list[tuple[int, list[str]]]:
    """CSV records (RFC 4180) with the line each starts on; blank lines dropped. When the text
    was cut off, the last record may be partial and is dropped too. A field over the contract's
    size limit rejects the file (FieldTooLarge)."""
    # Parsed whole even when cut off (a partial last record is dropped below): a field that is
    # already over the limit where the head ends must be seen.
    reader = csv.reader(io.StringIO(text.text, newline=""))
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            if row:
                records.append((line, row))
                if len(row) > MAX_COLUMNS:
                    break  # the header check says what is wrong
            line = reader.line_num + 1
    except csv.Error as e:
        if "field larger than field limit" not in str(e):
            raise errors.RowsRejected(
                f"{ref.source_path} is not readable CSV at line {line}: {e}. Save it as CSV "
                "(RFC 4180) and upload it again to the same key."
            ) from e
        raise errors.FieldTooLarge(
            f"{ref.source_path}: a field on line {line} is longer than {MAX_FIELD_CHARS:,} "
            "characters, more than one run parses safely (a travel-times field is a few hundred "
            "at most; a quote left open swallows the rest of a file). Fix the file and upload it "
            "again to the same key."
        ) from e
    if not text.complete and records:
        records.pop()
    return records


def check_header(records: list[tuple[int, list[str]]], ref: ObjectRef) -> Recognised:
    """The format the header declares (UnsupportedProduct, MissingColumns, TooManyColumns)."""
    if not records:
        raise errors.MissingColumns(
            f"{ref.source_path}: its first {HEAD_BYTES:,} bytes hold no complete line, so it has "
            "no readable header. The first line must name the export's columns (e.g. "
            '"Origin Movement ID,Origin Display Name,...")'
        )
    header = records[0][1]
    if len(header) > MAX_COLUMNS:
        raise errors.TooManyColumns(
            f"{ref.source_path}: its header has {len(header):,} columns, more than the "
            f"{MAX_COLUMNS:,} one run parses safely (a travel-times export has 8 to 23). Check "
            "that it is a travel-times export, fix it and upload it again to the same key."
        )
    try:
        return recognise(header, source=ref.source_path)
    except (errors.MissingColumns, errors.UnsupportedProduct) as e:
        raise type(e)(f"{e} Fix the header line and upload the file again.") from e


def sample_rows(
    recognised: Recognised, width: int, rows: list[tuple[int, list[str]]]
) -> tuple[Counter[str], tuple[int, str] | None]:
    """The contract's verdicts counted over the logical rows of `rows` (reject reasons,
    no_measurement and valid), and the first rejected (line, reason)."""
    verdicts: Counter[str] = Counter()
    first: tuple[int, str] | None = None
    single_date = recognised.format.single_date
    for line, row in rows:
        if len(row) != width:
            found: list[str | None] = [c.MALFORMED_ROW]
        else:
            found = [reject_reason(r, single_date) for r in logical_rows(recognised, row)]
        for verdict in found:
            verdicts[verdict or VALID] += 1
            if verdict in c.REJECT_REASONS:
                first = first or (line, verdict)
    return verdicts, first


def check_city(
    recognised: Recognised, rows: list[tuple[int, list[str]]], source: SourceKey, ref: ObjectRef
) -> None:
    """A `city` column must name the folder's city (CityMismatch, naming both)."""
    position = recognised.positions.get(c.CITY)
    if position is None:
        return
    folder = city_key(source.city)
    for line, row in rows:
        if position < len(row) and row[position].strip() and city_key(row[position]) != folder:
            raise errors.CityMismatch(
                f"{ref.source_path}: its city column says {row[position].strip()!r} (line "
                f"{line}) but the file is in the folder of {source.city!r}. Upload it to "
                f"travel_times/<{row[position].strip()}'s slug>/ or fix the city column, "
                "then upload it again."
            )


def check_sample(
    recognised: Recognised,
    width: int,
    records: list[tuple[int, list[str]]],
    text: Text,
    ref: ObjectRef,
) -> dict[str, Any]:
    rows = records[1 : 1 + SAMPLE_ROWS]
    if not rows and text.complete:
        raise errors.NoDataRows(
            f"{ref.source_path} has a header but no data rows. Upload the complete export "
            "(one row per origin/destination zone pair and date range)."
        )
    verdicts, first = sample_rows(recognised, width, rows)
    reasons = Counter({r: n for r, n in verdicts.items() if r in c.REJECT_REASONS})
    rejected = sum(reasons.values())
    # Only a sample where no row is valid is proof the whole file is wrong; rows that fail here
    # and there are the Glue job's to set aside, with their reasons, in the rejects area. Rows
    # without a measurement are no one's fault: they count neither way.
    if rejected and not verdicts[VALID]:
        counts = ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common())
        line, reason = first or (0, "")
        hints = "; ".join(REASON_HINTS[r] for r in reasons)
        raise errors.RowsRejected(
            f"{ref.source_path}: all {rejected} rows sampled from the start of the file break "
            f"the data contract ({counts}); the first is line {line} ({reason}). To fix: {hints}. "
            "Correct the file and upload it again to the same key."
        )
    return {
        "rows_sampled": len(rows),
        "rows_rejected_in_sample": rejected,
        "reject_reasons_in_sample": dict(reasons),
        "no_measurement_in_sample": verdicts.get(c.NO_MEASUREMENT, 0),
        "sample_is_whole_file": text.complete and len(records) - 1 <= SAMPLE_ROWS,
    }


def used_positions(recognised: Recognised) -> set[int]:
    """The header positions the format's declaration reads."""
    used = set(recognised.positions.values())
    for positions in recognised.period_positions:
        used |= set(positions.values())
    return used


def validate_object(ref: ObjectRef, client: Any) -> dict[str, Any]:
    """Validate the object `ref` points at, read through the S3 `client`; the result is what the
    workflow passes on."""
    check_key(ref)
    ref, head = read_head(ref, client)
    source = check_key(ref)  # (a backfill's key as listed, when that is the one that exists)
    text = decode_head(head, ref, source.gzipped)
    records = read_records(text, ref)
    recognised = check_header(records, ref)
    header = clean_header(records[0][1])
    check_city(recognised, records[1 : 1 + SAMPLE_ROWS], source, ref)
    sample = check_sample(recognised, len(header), records, text, ref)
    return {
        "bucket": ref.bucket,
        "key": ref.key,
        "city": source.city,
        "file_name": source.file_name,
        "source_path": ref.source_path,
        "size": head.size,
        "version_id": head.version_id or ref.event_version_id,
        "etag": head.etag,
        "compression": text.compression,
        "format": recognised.format.name,
        "columns": header,
        "extra_columns": [
            name for i, name in enumerate(header) if i not in used_positions(recognised)
        ],
        **sample,
    }


def make_handler(s3_client: Any, logger: Logger) -> Handler:
    """The validate handler over the S3 client and the logger it is handed."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            ref = object_from_event(event)
            logger.append_keys(source_path=ref.source_path)
            result = validate_object(ref, s3_client)
        except errors.FileRejected as e:
            logger.warning("file rejected", extra={"error": type(e).__name__, "reason": str(e)})
            raise
        logger.info("file accepted", extra={"result": result})
        return result

    return handler


def _aws_handler() -> Handler:
    import boto3

    client = boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
    return make_handler(client, Logger())  # service: the function's name, set by the stack


# Lambda's entry point (`functions.validate.handler`): the handler over boto3's S3 client.
handler = built_on_first_call(_aws_handler)
