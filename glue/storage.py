"""The few object-store operations the job needs, on local folders and on S3.

Locations are URIs: `s3://bucket/key`, `file:///abs/path`, or a plain local path. Hand-written
rather than fsspec/s3fs because those are not guaranteed on AWS Glue (boto3 is), and the commit
protocol needs two things generic file layers hide: an atomic local rename, and S3's conditional
create (`If-None-Match: *`) for the publish lock."""

from __future__ import annotations

import contextlib
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def join(base: str, *parts: str) -> str:
    """`base` and relative `parts` joined with single slashes (works for URIs and local paths)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])


class Storage(ABC):
    """Objects addressed by URI. Writes of small documents replace them whole, never partially."""

    # How many moves/deletes publishing may run at once (S3 calls are slow but independent).
    parallelism = 1

    @abstractmethod
    def open_read(self, uri: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A binary stream of the object, read lazily (only what the caller reads is fetched)."""

    @abstractmethod
    def read_text(self, uri: str) -> str | None:
        """The object's text, or None when it does not exist."""

    @abstractmethod
    def write_text(self, uri: str, text: str) -> None:
        """Create or atomically replace the object."""

    @abstractmethod
    def create_exclusive(self, uri: str, text: str) -> bool:
        """Create the object only if it does not exist; False when it already exists."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """URIs of all objects under `prefix` (recursively), sorted."""

    @abstractmethod
    def move(self, source: str, target: str) -> None:
        """Move one object, replacing `target`."""

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Delete one object; nothing happens when it does not exist."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under `prefix`."""
        for uri in self.list(prefix):
            self.delete(uri)


class LocalStorage(Storage):
    """A local folder tree: renames are atomic (os.replace), and folders left empty by deletes
    are removed so that no empty partition folder lingers."""

    @staticmethod
    def path(uri: str) -> Path:
        return Path(uri.removeprefix("file://"))

    @contextlib.contextmanager
    def open_read(self, uri: str) -> Iterator[BinaryIO]:
        with open(self.path(uri), "rb") as stream:
            yield stream

    def read_text(self, uri: str) -> str | None:
        try:
            return self.path(uri).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, uri: str, text: str) -> None:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def create_exclusive(self, uri: str, text: str) -> bool:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then hard-linked: the link fails if the target exists, and a reader never
        # sees the object without its content.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.link(tmp, target)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        return True

    def list(self, prefix: str) -> list[str]:
        # S3 semantics: a plain string prefix; end it with "/" to mean a folder.
        root = str(self.path(prefix)) + ("/" if prefix.endswith("/") else "")
        base = os.path.dirname(root)
        scheme = "file://" if prefix.startswith("file://") else ""
        found = []
        for folder, folders, names in os.walk(base):
            # Descend only where names can still start with the prefix.
            folders[:] = [f for f in folders if _may_hold(os.path.join(folder, f) + "/", root)]
            found += [p for name in names if (p := os.path.join(folder, name)).startswith(root)]
        return sorted(scheme + p for p in found)

    def move(self, source: str, target: str) -> None:
        destination = self.path(target)
        for attempt in range(3):
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(self.path(source), destination)
                return
            except FileNotFoundError:
                # A concurrent delete may have pruned the (then empty) folder: create it again.
                if attempt == 2 or not self.path(source).exists():
                    raise

    def delete(self, uri: str) -> None:
        path = self.path(uri)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        folder = path.parent
        with contextlib.suppress(OSError):  # stops at the first folder that is not empty
            while True:
                folder.rmdir()
                folder = folder.parent


def _may_hold(folder: str, prefix: str) -> bool:
    return folder.startswith(prefix) or prefix.startswith(folder)


class S3Storage(Storage):
    """Amazon S3 through boto3. A move is copy + delete: S3 has no rename (a single CopyObject
    takes objects up to 5 GB, far above one partition's file of one export)."""

    parallelism = 16

    def __init__(self, client: object | None = None):
        if client is None:
            import boto3  # only when S3 is used: local runs need no AWS SDK set-up

            client = boto3.client("s3")
        self.client = client

    @staticmethod
    def split(uri: str) -> tuple[str, str]:
        bucket, _, key = uri.partition("://")[2].partition("/")
        return bucket, key

    @contextlib.contextmanager
    def open_read(self, uri: str) -> Iterator[BinaryIO]:
        bucket, key = self.split(uri)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield body
        finally:
            body.close()

    def read_text(self, uri: str) -> str | None:
        bucket, key = self.split(uri)
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        except self.client.exceptions.NoSuchKey:
            return None
        with contextlib.closing(body):
            return body.read().decode("utf-8")

    def write_text(self, uri: str, text: str) -> None:
        bucket, key = self.split(uri)
        self.client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))

    def create_exclusive(self, uri: str, text: str) -> bool:
        from botocore.exceptions import ClientError

        bucket, key = self.split(uri)
        try:
            self.client.put_object(Bucket=bucket, Key=key, Body=text.encode(), IfNoneMatch="*")
        except ClientError as e:
            # 412: the object exists; 409: a concurrent conditional write to it is under way.
            if e.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def list(self, prefix: str) -> list[str]:
        bucket, key = self.split(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        scheme = prefix.split("://", 1)[0]
        return sorted(
            f"{scheme}://{bucket}/{item['Key']}"
            for page in pages
            for item in page.get("Contents", [])
        )

    def move(self, source: str, target: str) -> None:
        source_bucket, source_key = self.split(source)
        bucket, key = self.split(target)
        self.client.copy_object(
            Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key}
        )
        self.client.delete_object(Bucket=source_bucket, Key=source_key)

    def delete(self, uri: str) -> None:
        bucket, key = self.split(uri)
        self.client.delete_object(Bucket=bucket, Key=key)


def storage_for(uri: str) -> Storage:
    """The storage that serves `uri`: S3 for `s3://` (also `s3a://`/`s3n://`), else local."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme in ("s3", "s3a", "s3n"):
        return S3Storage()
    if scheme in ("", "file"):
        return LocalStorage()
    raise ValueError(f"unsupported location {uri!r}: expected s3://, file:// or a local path")
