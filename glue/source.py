"""The version of the raw object a run is about, and a copy of exactly that version to read.

The workflow hands the job the S3 event's `detail.object` (`--source_object`): its version id
says which version to read, whatever was uploaded to the key since; its sequencer says which of
two uploads of the key came last (S3's order of events, not the order runs finish in).

The run reads a copy of that version in its staging area: a plain CSV is copied as it is (a
server-side copy on S3, a hard link locally); a `.csv.gz` is inflated there on the way, stopping
at the configured bound (a gzip bomb is rejected after reading at most that much), and Spark
then reads plain CSV, which it can split across cores and workers, unlike gzip."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from contract import errors
from glue.object_store import ObjectStore, join


@dataclass(frozen=True)
class SourceVersion:
    """The event's word on the object: None where the event did not say (a backfill's listing,
    a run started by hand), and then the run reads the current version."""

    version_id: str | None = None
    sequencer: str | None = None
    etag: str | None = None

    @classmethod
    def from_event_object(cls, text: str | None) -> SourceVersion:
        """From `detail.object` of the S3 event, as JSON text."""
        if not text:
            return cls()
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise ValueError(f"--source_object is not JSON: {text[:200]!r}") from e
        return cls(
            version_id=obj.get("version-id") or None,
            sequencer=obj.get("sequencer") or None,
            etag=str(obj.get("etag") or "").strip('"') or None,
        )


def sequencer_order(first: str, second: str) -> int:
    """-1, 0 or 1 as `first` came before, with or after `second` (two events of one key).
    S3: "The sequencers can be of different lengths. So, to compare these values, first right
    pad the shorter value with zeros, and then do a lexicographical comparison."
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)"""
    width = max(len(first), len(second))
    a, b = first.upper().ljust(width, "0"), second.upper().ljust(width, "0")
    return (a > b) - (a < b)


@dataclass(frozen=True)
class PinnedSource:
    """The run's copy of its version: `uri` is plain CSV text."""

    uri: str
    version_id: str | None


class _Bounded(io.RawIOBase):
    """Reads the inflated stream, failing once more than `limit` bytes came out of it."""

    def __init__(self, stream: BinaryIO, limit: int, source_key: str) -> None:
        self.stream, self.limit, self.source_key, self.total = stream, limit, source_key, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self.stream.read(min(len(buffer), self.limit + 1 - self.total))
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise errors.NotGzip(
                f"{self.source_key} is not valid gzip after {self.total:,} inflated bytes ({e}). "
                "Compress the export with gzip again and upload it again."
            ) from e
        self.total += len(data)
        if self.total > self.limit:
            raise errors.InflatesTooLarge(
                f"{self.source_key} inflates to more than {self.limit:,} bytes, the most one run "
                "takes from a .csv.gz (a gzip bomb, or an export far larger than any city's). "
                "Fix the file and upload it again, split into several files if it is real data."
            )
        buffer[: len(data)] = data
        return len(data)


def pin_source(
    raw: ObjectStore,
    source_path: str,
    source_key: str,
    version: SourceVersion,
    curated: ObjectStore,
    staging: str,
    max_inflated_bytes: int,
) -> PinnedSource:
    """Copy the event's version of the object into `staging` (inflated when gzip). Raises
    VersionGone when that version no longer exists, InflatesTooLarge past the bound."""
    name = source_path.rstrip("/").rsplit("/", 1)[-1]
    if not name.endswith(".gz"):
        target = join(staging, "source", name)
        return PinnedSource(target, raw.pin_version(source_path, version.version_id, target))
    target = join(staging, "source", name.removesuffix(".gz"))
    with raw.open_version(source_path, version.version_id) as (stream, version_id):
        inflated = _Bounded(gzip.GzipFile(fileobj=stream), max_inflated_bytes, source_key)
        curated.write_stream(target, io.BufferedReader(inflated, 1 << 20))
    return PinnedSource(target, version_id)
