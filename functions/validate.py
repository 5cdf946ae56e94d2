"""The first state of the workflow: check one uploaded export against the data contract before any
Spark work is paid for, reading only the head of the object.

In: the S3 "Object Created" event as EventBridge delivers it. Out: what the Glue job needs
(bucket, key, city, source_path, size) plus what was learned (version, compression, columns, the
sample's counts). A file that breaks the contract raises a named error from `functions.errors`
whose message names the file, says what is wrong and how to fix it.

The same handler runs in Lambda and in the local runtime: `make_handler` builds it over the S3
client it is handed (boto3's on AWS, one over the lake home's folders locally), so S3 is used only
through `head_object` and a ranged `get_object`."""

from __future__ import annotations

import codecs
import csv
import io
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import ClientError

from contract import columns as c
from contract import errors
from contract.layout import SourceKey, parse_source_key
from contract.values import BOM, clean_header, reject_reason, resolve_header
from functions.entry import Handler, built_on_first_call

HEAD_BYTES = 1024 * 1024  # what is read of the object: enough for thousands of rows
MAX_HEAD_TEXT_BYTES = 8 * HEAD_BYTES  # cap on a decompressed head (a gzip bomb stays cheap)
SAMPLE_ROWS = 1000
GZIP_MAGIC = b"\x1f\x8b"

tracer = Tracer()

REASON_HINTS = {
    c.MALFORMED_ROW: "each row must have as many fields as the header; quote values that "
    'contain commas or quotes (RFC 4180: "Zone 1, North")',
    c.MISSING_FIELD: f"every row needs a value for {', '.join(c.REQUIRED_VALUES)}",
    c.BAD_MOVEMENT_ID: "Movement IDs must be positive whole numbers",
    c.BAD_DATE_RANGE: "Date Range must be 'M/D/YYYY - M/D/YYYY' optionally followed by "
    "', <days>, <time of day>', e.g. '6/1/2019 - 6/30/2019, Weekdays, Daily Average'",
    c.BAD_TRAVEL_TIME: "travel times must be non-negative numbers without sign or exponent "
    "(the lower and upper bounds may be empty)",
}


@dataclass(frozen=True)
class ObjectRef:
    """The object an event is about, its key URL-decoded."""

    bucket: str
    key: str
    event_version_id: str | None

    @property
    def source_path(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Head:
    """The first bytes of an object and what S3 said about the whole of it."""

    data: bytes
    size: int
    version_id: str | None
    etag: str | None

    @property
    def complete(self) -> bool:
        return len(self.data) >= self.size


@dataclass(frozen=True)
class Text:
    """The decoded head; `complete` when it is the whole file (nothing was cut off)."""

    text: str
    complete: bool
    compression: str


def object_from_event(event: dict[str, Any]) -> ObjectRef:
    """The bucket and (decoded) key of an S3 "Object Created" EventBridge event."""
    try:
        parsed = parse(event=event, model=S3EventNotificationEventBridgeModel)
    except (ValueError, TypeError) as e:  # pydantic's ValidationError is a ValueError
        raise errors.InvalidEvent(
            "the input is not an S3 'Object Created' event as EventBridge delivers it "
            f"({str(e).splitlines()[0]}). Start the workflow by uploading a file to the raw "
            "bucket, or re-run an execution with its original input."
        ) from e
    if parsed.source != "aws.s3" or parsed.detail_type != "Object Created":
        raise errors.InvalidEvent(
            f"the input is a {parsed.source!r} {parsed.detail_type!r} event, not an S3 "
            "'Object Created' event. Only uploads to the raw bucket start this workflow."
        )
    detail = parsed.detail
    # S3 URL-encodes keys in its notifications ('a b.csv' arrives as 'a+b.csv').
    return ObjectRef(
        bucket=detail.bucket.name,
        key=unquote_plus(detail.object.key),
        event_version_id=detail.object.version_id,
    )


def check_key(ref: ObjectRef) -> SourceKey:
    try:
        return parse_source_key(ref.key)
    except errors.InvalidSourceKey as e:
        raise errors.InvalidSourceKey(
            f"{ref.source_path}: {e} Move or copy the file to a key that follows this layout; "
            "that upload starts a new run."
        ) from e


def read_head(ref: ObjectRef, client: Any) -> Head:
    """HEAD the object, then GET at most its first HEAD_BYTES."""
    try:
        meta = client.head_object(Bucket=ref.bucket, Key=ref.key)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            raise errors.FileNotFound(
                f"{ref.source_path} no longer exists: it was deleted or renamed after its upload "
                "started this run. Upload it again to the same key to process it."
            ) from e
        raise
    size = int(meta["ContentLength"])
    etag = str(meta.get("ETag") or "").strip('"') or None
    if size == 0:  # a ranged GET of an empty object is an error in S3 (416)
        return Head(b"", 0, meta.get("VersionId"), etag)
    response = client.get_object(Bucket=ref.bucket, Key=ref.key, Range=f"bytes=0-{HEAD_BYTES - 1}")
    data = response["Body"].read()
    return Head(data, size, response.get("VersionId") or meta.get("VersionId"), etag)


def gunzip_head(head: Head, ref: ObjectRef) -> tuple[bytes, bool]:
    """Decompress the head of a gzip object, tolerating a head that ends mid-stream. Returns the
    bytes and whether they are the whole file."""
    fix = (
        "Compress the export with gzip (e.g. `gzip export.csv`) and upload it again, or upload "
        "the uncompressed file with a .csv key."
    )
    if not head.data.startswith(GZIP_MAGIC):
        raise errors.NotGzip(
            f"{ref.source_path} ends in .gz but is not gzip data (it does not start with the "
            f"gzip signature 1f 8b; its first bytes are {head.data[:4].hex(' ')}). {fix}"
        )
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        data = inflater.decompress(head.data, MAX_HEAD_TEXT_BYTES)
    except zlib.error as e:
        raise errors.NotGzip(f"{ref.source_path} is not valid gzip: {e}. {fix}") from e
    capped = bool(inflater.unconsumed_tail)
    if head.complete and not inflater.eof and not capped:
        raise errors.NotGzip(
            f"{ref.source_path} is a truncated gzip file: the stream ends before its end "
            f"marker (the upload may have been cut off). {fix}"
        )
    # A further gzip member (concatenated gzip) means more text than was decompressed.
    complete = head.complete and inflater.eof and not capped and not inflater.unused_data
    return data, complete


def decode_head(head: Head, ref: ObjectRef, gzipped: bool) -> Text:
    """The head as text: gunzipped when the key says .gz, then strictly UTF-8 decoded."""
    if head.size == 0:
        raise errors.EmptyFile(
            f"{ref.source_path} is empty (0 bytes). Upload the export again with its content; "
            "if a program wrote it, check that it finished writing before the upload."
        )
    if gzipped:
        data, complete = gunzip_head(head, ref)
    else:
        if head.data.startswith(GZIP_MAGIC):
            raise errors.NotUtf8(
                f"{ref.source_path} is gzip-compressed but its key ends in .csv, so it would be "
                "read as text. Upload it with a .csv.gz key (or upload the uncompressed file)."
            )
        data, complete = head.data, head.complete
    try:
        # An incremental decoder keeps a character cut in half by the range for later.
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(data, final=complete)
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise errors.NotUtf8(
            f"{ref.source_path} is not UTF-8: byte 0x{data[e.start]:02x} at offset {e.start} "
            f"(line {line}) is not valid UTF-8 ({e.reason}). Save the export as UTF-8 (e.g. "
            "Excel's 'CSV UTF-8', or `iconv -f latin1 -t utf-8 in.csv > out.csv`) and upload it "
            "again to the same key."
        ) from e
    if not text.removeprefix(BOM).strip():
        what = "the file inside the gzip" if gzipped else "the file"
        raise errors.EmptyFile(
            f"{ref.source_path}: {what} holds no text but blank lines. Upload the export again "
            "with its header and rows."
        )
    return Text(text, complete, "gzip" if gzipped else "none")


def read_records(text: Text) -> list[tuple[int, list[str]]]:
    """CSV records (RFC 4180) with the line each starts on; blank lines dropped. When the text
    was cut off, the last record may be partial and is dropped too."""
    body = text.text
    if not text.complete:
        body = body[: body.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(body, newline=""))
    records: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for row in reader:
            if row:
                records.append((line, row))
            line = reader.line_num + 1
    except csv.Error:
        pass  # e.g. a field over csv's size limit: sample what came before it
    if not text.complete and records:
        records.pop()
    return records


def check_header(records: list[tuple[int, list[str]]], ref: ObjectRef) -> list[str]:
    if not records:
        raise errors.MissingColumns(
            f"{ref.source_path}: its first {HEAD_BYTES} bytes hold no complete line, so it has "
            "no readable header. The first line must name the columns "
            f"{', '.join(c.SOURCE_COLUMNS)}."
        )
    header = records[0][1]
    try:
        resolve_header(header, source=ref.source_path)
    except errors.MissingColumns as e:
        raise errors.MissingColumns(f"{e} Fix the header line and upload the file again.") from e
    return clean_header(header)


def sample_rows(
    header: list[str], rows: list[tuple[int, list[str]]]
) -> tuple[Counter[str], tuple[int, str] | None]:
    """The contract's reject reasons counted over `rows`, and the first rejected (line, reason)."""
    positions = {name: header.index(name) for name in c.SOURCE_COLUMNS}
    reasons: Counter[str] = Counter()
    first: tuple[int, str] | None = None
    for line, row in rows:
        if len(row) != len(header):
            reason: str | None = c.MALFORMED_ROW
        else:
            reason = reject_reason({name: row[i] for name, i in positions.items()})
        if reason:
            reasons[reason] += 1
            first = first or (line, reason)
    return reasons, first


def check_sample(
    header: list[str], records: list[tuple[int, list[str]]], text: Text, ref: ObjectRef
) -> dict[str, Any]:
    rows = records[1 : 1 + SAMPLE_ROWS]
    if not rows and text.complete:
        raise errors.NoDataRows(
            f"{ref.source_path} has a header but no data rows. Upload the complete export "
            "(one row per origin/destination zone pair and date range)."
        )
    reasons, first = sample_rows(header, rows)
    rejected = sum(reasons.values())
    # Only a sample where every row fails is proof the whole file is wrong; rows that fail here
    # and there are the Glue job's to set aside, with their reasons, in the rejects area.
    if rows and rejected == len(rows):
        counts = ", ".join(f"{reason}: {n}" for reason, n in reasons.most_common())
        line, reason = first or (0, "")
        hints = "; ".join(REASON_HINTS[r] for r in reasons)
        raise errors.RowsRejected(
            f"{ref.source_path}: all {len(rows)} rows sampled from the start of the file break "
            f"the data contract ({counts}); the first is line {line} ({reason}). To fix: {hints}. "
            "Correct the file and upload it again to the same key."
        )
    return {
        "rows_sampled": len(rows),
        "rows_rejected_in_sample": rejected,
        "reject_reasons_in_sample": dict(reasons),
        "sample_is_whole_file": text.complete and len(records) - 1 <= SAMPLE_ROWS,
    }


def validate_object(ref: ObjectRef, client: Any) -> dict[str, Any]:
    """Validate the object `ref` points at, read through the S3 `client`; the result is what the
    workflow passes on."""
    source = check_key(ref)
    head = read_head(ref, client)
    text = decode_head(head, ref, source.gzipped)
    records = read_records(text)
    header = check_header(records, ref)
    sample = check_sample(header, records, text, ref)
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
        "columns": header,
        "extra_columns": [name for name in header if name not in c.SOURCE_COLUMNS],
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
