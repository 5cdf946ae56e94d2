"""What the job asks of an object store: `ObjectStore`, the abstract base both stores follow,
and the names they share."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import BinaryIO


class VersionGone(LookupError):
    """The version a run is about no longer exists (replaced and expired, or overwritten)."""


def join(base: str, *parts: str) -> str:
    """`base` and relative `parts` joined with single slashes (works for URIs and local paths)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])


class ObjectStore(ABC):
    """Objects addressed by URI. Writes of small documents replace them whole, never partially.
    ETags are given without S3's quotes."""

    # How many moves/deletes publishing may run at once (S3 calls are slow but independent).
    parallelism = 1

    @abstractmethod
    def open_read(self, uri: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A binary stream of the object, read lazily (only what the caller reads is fetched)."""

    @abstractmethod
    def read_text(self, uri: str) -> str | None:
        """The object's text, or None when it does not exist."""

    @abstractmethod
    def read_with_etag(self, uri: str) -> tuple[str, str] | None:
        """The object's text and ETag, or None when it does not exist."""

    @abstractmethod
    def write_text(self, uri: str, text: str) -> None:
        """Create or atomically replace the object."""

    @abstractmethod
    def create_exclusive(self, uri: str, text: str) -> str | None:
        """Create the object only if it does not exist: its ETag, or None when it exists."""

    @abstractmethod
    def replace_if_match(self, uri: str, text: str, etag: str) -> str | None:
        """Replace the object only if its ETag is still `etag`: the new ETag, or None when it
        changed (or is gone) meanwhile. At most one of several such writers wins."""

    @abstractmethod
    def delete_if_match(self, uri: str, etag: str) -> bool:
        """Delete the object only if its ETag is still `etag`."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """URIs of all objects under `prefix` (recursively), sorted."""

    @abstractmethod
    def move(self, source: str, target: str) -> None:
        """Move one object, replacing `target`."""

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Delete one object; nothing happens when it does not exist."""

    @abstractmethod
    def current_version(self, uri: str) -> str | None:
        """The version id of the object as it is now (None: no such object, or unversioned)."""

    @abstractmethod
    def pin_version(self, uri: str, version_id: str | None, target: str) -> str:
        """Put exactly `version_id` of the object (the current one when None) at `target`, so
        that the run reads that version whatever is uploaded meanwhile; its version id. Raises
        VersionGone when that version no longer exists."""

    @abstractmethod
    def open_version(
        self, uri: str, version_id: str | None
    ) -> contextlib.AbstractContextManager[tuple[BinaryIO, str | None]]:
        """A binary stream of exactly `version_id` of the object (the current one when None),
        and that version's id. Raises VersionGone when that version no longer exists."""

    @abstractmethod
    def write_stream(self, uri: str, stream: BinaryIO) -> None:
        """Write the object from a stream read to its end (large objects in parts); nothing
        is left at `uri` when reading the stream fails."""

    @abstractmethod
    def upload_file(self, path: Path, uri: str) -> None:
        """Copy a local file to `uri` (large files in parts)."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under `prefix`."""
        for uri in self.list(prefix):
            self.delete(uri)
