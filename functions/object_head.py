"""The head of an uploaded object, as the validator reads it: which object the S3 "Object
Created" event names (`object_from_event`), its first HEAD_BYTES from S3 through the client it
is handed (one HEAD and one ranged GET, at the event's version: `read_head`), and that head as
text (gunzipped within a bound, strictly UTF-8 decoded: `decode_head`). A file that cannot be
read so raises the contract's named error, whose message names the file and the fix."""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from botocore.exceptions import ClientError

from contract import errors
from contract.values import BOM

HEAD_BYTES = 1024 * 1024  # what is read of the object: enough for thousands of rows
MAX_HEAD_TEXT_BYTES = 8 * HEAD_BYTES  # cap on a decompressed head (a gzip bomb stays cheap)
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ObjectRef:
    """The object an event is about, its key URL-decoded."""

    bucket: str
    key: str
    event_version_id: str | None
    event_key: str = ""  # the key as the event wrote it

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
    # S3 URL-encodes keys in its notifications ('a b.csv' arrives as 'a+b.csv'); a backfill
    # passes keys as S3 lists them (see `read_head`, which falls back to the key as written).
    return ObjectRef(
        bucket=detail.bucket.name,
        key=unquote_plus(detail.object.key),
        event_version_id=detail.object.version_id,
        event_key=detail.object.key,
    )


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in {
        "404",
        "NoSuchKey",
        "NotFound",
        "NoSuchVersion",
    }


def resolve(ref: ObjectRef, client: Any) -> tuple[ObjectRef, dict[str, Any]]:
    """The object the event names and what HEAD says of it: the decoded key, else the key as
    the event wrote it (a backfill's listing), at the event's version when it names one."""
    version = {"VersionId": ref.event_version_id} if ref.event_version_id else {}
    candidates = [ref.key] + ([ref.event_key] if ref.event_key not in ("", ref.key) else [])
    for key in candidates:
        try:
            meta = client.head_object(Bucket=ref.bucket, Key=key, **version)
        except ClientError as e:
            if _missing(e):
                continue
            raise
        return ObjectRef(ref.bucket, key, ref.event_version_id, ref.event_key), meta
    which = f" (version {ref.event_version_id})" if ref.event_version_id else ""
    raise errors.FileNotFound(
        f"{ref.source_path}{which} no longer exists: it was deleted or renamed after its upload "
        "started this run. Upload it again to the same key to process it."
    )


def read_head(ref: ObjectRef, client: Any) -> tuple[ObjectRef, Head]:
    """HEAD the object (the event's version), then GET at most its first HEAD_BYTES: the object
    as resolved (see `resolve`) and its head."""
    ref, meta = resolve(ref, client)
    size = int(meta["ContentLength"])
    etag = str(meta.get("ETag") or "").strip('"') or None
    if size == 0:  # a ranged GET of an empty object is an error in S3 (416)
        return ref, Head(b"", 0, meta.get("VersionId"), etag)
    version = {"VersionId": ref.event_version_id} if ref.event_version_id else {}
    response = client.get_object(
        Bucket=ref.bucket, Key=ref.key, Range=f"bytes=0-{HEAD_BYTES - 1}", **version
    )
    data = response["Body"].read()
    return ref, Head(data, size, response.get("VersionId") or meta.get("VersionId"), etag)


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
    # Member after member: `cat a.gz b.gz` is valid gzip (RFC 1952: a series of members).
    data, pending, capped = b"", head.data, False
    while pending and not capped:
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        try:
            data += inflater.decompress(pending, MAX_HEAD_TEXT_BYTES - len(data))
        except zlib.error as e:
            raise errors.NotGzip(f"{ref.source_path} is not valid gzip: {e}. {fix}") from e
        capped = bool(inflater.unconsumed_tail) or len(data) >= MAX_HEAD_TEXT_BYTES
        if not inflater.eof:
            break  # the head ends inside this member
        pending = inflater.unused_data
    if head.complete and not inflater.eof and not capped:
        raise errors.NotGzip(
            f"{ref.source_path} is a truncated gzip file: the stream ends before its end "
            f"marker (the upload may have been cut off). {fix}"
        )
    return data, head.complete and inflater.eof and not capped and not pending


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
