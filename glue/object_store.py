"""The few object-store operations the job needs, on local folders and on S3.

Locations are URIs: `s3://bucket/key`, `file:///abs/path`, or a plain local path. Hand-written
rather than fsspec/s3fs because those are not guaranteed on AWS Glue (boto3 is), and the job
needs what generic file layers hide: an atomic local rename, S3's conditional writes
(`If-None-Match: *` to create, `If-Match: <etag>` to replace or delete only what was read) for
the publish lock, and reading one exact version of an object.

Local buckets keep versions the way the local runtime stores them: a version of `<dir>/<name>`
is a hard link at `<dir>/.versions/<name>/<version id>`, the id being `local_version_id` of the
file (its size and modification time), the one the runtime puts in the object's event."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

VERSIONS = ".versions"


class VersionGone(LookupError):
    """The version a run is about no longer exists (replaced and expired, or overwritten)."""


def join(base: str, *parts: str) -> str:
    """`base` and relative `parts` joined with single slashes (works for URIs and local paths)."""
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p)])


def local_version_id(path: Path | int) -> str:
    """The version id of a local file's content (a path or an open file's descriptor): its size
    and modification time, hashed."""
    stat = os.stat(path)
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def version_path(path: Path, version_id: str | None) -> tuple[Path, str]:
    """The local file holding that version of the object at `path` (the object itself when it
    is the current one, or when `version_id` is None) and the version's id."""
    candidates = [path]
    if version_id is not None:
        candidates.append(path.parent / VERSIONS / path.name / version_id)
    for candidate in candidates:
        with contextlib.suppress(FileNotFoundError):
            found = local_version_id(candidate)
            if version_id is None or found == version_id:
                return candidate, found
    raise VersionGone(f"version {version_id} of {path} no longer exists")


def keep_version(path: Path, keep: int = 5) -> tuple[Path, str]:
    """Keep the object's current content as a version (a hard link: no copy), so that a run
    can read it after the key is uploaded again; the kept file and its version id. Only the
    `keep` newest versions of a key stay, as a lifecycle rule expires noncurrent versions on S3
    (a run of an expired version is superseded by the newer ones anyway)."""
    folder = path.parent / VERSIONS / path.name
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / f".new-{os.getpid()}-{threading.get_ident()}"
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    os.link(path, link)  # the inode as it is now, whatever replaces `path` next
    kept = folder / local_version_id(link)
    os.replace(link, kept)
    versions = []
    for version in folder.iterdir():
        with contextlib.suppress(FileNotFoundError):  # pruned meanwhile by another landing
            if not version.name.startswith("."):
                versions.append((version.stat().st_mtime_ns, version))
    for _, old in sorted(versions, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
    return kept, kept.name


def _etag(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


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


class LocalStorage(ObjectStore):
    """A local folder tree: renames are atomic (os.replace), conditional writes are serialized by
    a lock file beside the object (every local writer of a lock goes through here), and folders
    left empty by deletes are removed so that no empty partition folder lingers."""

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

    def read_with_etag(self, uri: str) -> tuple[str, str] | None:
        text = self.read_text(uri)
        return None if text is None else (text, _etag(text))

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

    @contextlib.contextmanager
    def _guarded(self, uri: str) -> Iterator[Path]:
        """The object's path, with every conditional writer of it kept out meanwhile."""
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / f".{target.name}.guard", "a+b") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)
            try:
                yield target
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def create_exclusive(self, uri: str, text: str) -> str | None:
        with self._guarded(uri) as target:
            if target.exists():
                return None
            self.write_text(uri, text)
            return _etag(text)

    def replace_if_match(self, uri: str, text: str, etag: str) -> str | None:
        with self._guarded(uri):
            current = self.read_with_etag(uri)
            if current is None or current[1] != etag:
                return None
            self.write_text(uri, text)
            return _etag(text)

    def delete_if_match(self, uri: str, etag: str) -> bool:
        with self._guarded(uri):
            current = self.read_with_etag(uri)
            if current is None or current[1] != etag:
                return False
            self.delete(uri)
            return True

    def list(self, prefix: str) -> list[str]:
        # S3 semantics: a plain string prefix; end it with "/" to mean a folder. Hidden files
        # (temporary writes, lock guards, kept versions) are not objects.
        root = str(self.path(prefix)) + ("/" if prefix.endswith("/") else "")
        base = os.path.dirname(root)
        scheme = "file://" if prefix.startswith("file://") else ""
        found = []
        for folder, folders, names in os.walk(base):
            # Descend only where names can still start with the prefix.
            folders[:] = [
                f
                for f in folders
                if not f.startswith(".") and _may_hold(os.path.join(folder, f) + "/", root)
            ]
            found += [
                p
                for name in names
                if not name.startswith(".") and (p := os.path.join(folder, name)).startswith(root)
            ]
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

    def delete_prefix(self, prefix: str) -> None:
        if not prefix.endswith("/"):
            return super().delete_prefix(prefix)
        # A folder: with the hidden files `list` does not show (Spark's .crc files).
        shutil.rmtree(self.path(prefix), ignore_errors=True)
        self.delete(prefix.rstrip("/"))  # and its parents left empty

    def current_version(self, uri: str) -> str | None:
        path = self.path(uri)
        return local_version_id(path) if path.is_file() else None

    def pin_version(self, uri: str, version_id: str | None, target: str) -> str:
        # A copy, not a hard link: a program that rewrites the object in place (cp does) would
        # change a linked copy under the run. A file rewritten during the copy is another
        # version by then (VersionGone).
        with self.open_version(uri, version_id) as (stream, found):
            self.write_stream(target, stream)
        return found

    @contextlib.contextmanager
    def open_version(self, uri: str, version_id: str | None) -> Iterator[tuple[BinaryIO, str]]:
        source, found = version_path(self.path(uri), version_id)
        with open(source, "rb") as stream:
            opened = local_version_id(stream.fileno())  # replaced since it was looked up?
            if opened != found and version_id is not None:
                raise VersionGone(f"version {version_id} of {uri} was replaced meanwhile")
            found = opened
            yield stream, found
            # Replaced whole, the open file is still that version; rewritten in place, it is not.
            if local_version_id(stream.fileno()) != found:
                raise VersionGone(f"version {found} of {uri} was rewritten while it was read")

    def write_stream(self, uri: str, stream: BinaryIO) -> None:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def upload_file(self, path: Path, uri: str) -> None:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _may_hold(folder: str, prefix: str) -> bool:
    return folder.startswith(prefix) or prefix.startswith(folder)


class S3Storage(ObjectStore):
    """Amazon S3 through boto3. A move is copy + delete: S3 has no rename (a single CopyObject
    takes objects up to 5 GB, far above one partition's file of one export). Conditional writes
    and deletes follow the S3 guide's "conditional requests" pages (`If-None-Match: *`,
    `If-Match: <ETag>`; a concurrent conditional write answers 409, a failed condition 412)."""

    parallelism = 16
    _LOST = ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404")

    def __init__(self, client: object | None = None):
        if client is None:
            import boto3  # only when S3 is used: local runs need no AWS SDK set-up

            client = boto3.client("s3")
        self.client = client

    @staticmethod
    def split(uri: str) -> tuple[str, str]:
        bucket, _, key = uri.partition("://")[2].partition("/")
        return bucket, key

    def _lost(self, error: Exception) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        return code in self._LOST

    @contextlib.contextmanager
    def open_read(self, uri: str) -> Iterator[BinaryIO]:
        bucket, key = self.split(uri)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield body
        finally:
            body.close()

    def read_text(self, uri: str) -> str | None:
        found = self.read_with_etag(uri)
        return None if found is None else found[0]

    def read_with_etag(self, uri: str) -> tuple[str, str] | None:
        bucket, key = self.split(uri)
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        with contextlib.closing(response["Body"]) as body:
            return body.read().decode("utf-8"), response["ETag"].strip('"')

    def write_text(self, uri: str, text: str) -> None:
        bucket, key = self.split(uri)
        self.client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"))

    def _conditional_put(self, uri: str, text: str, **condition: str) -> str | None:
        from botocore.exceptions import ClientError

        bucket, key = self.split(uri)
        try:
            response = self.client.put_object(
                Bucket=bucket, Key=key, Body=text.encode("utf-8"), **condition
            )
        except ClientError as e:
            if self._lost(e):
                return None
            raise
        return response["ETag"].strip('"')

    def create_exclusive(self, uri: str, text: str) -> str | None:
        return self._conditional_put(uri, text, IfNoneMatch="*")

    def replace_if_match(self, uri: str, text: str, etag: str) -> str | None:
        return self._conditional_put(uri, text, IfMatch=f'"{etag}"')

    def delete_if_match(self, uri: str, etag: str) -> bool:
        from botocore.exceptions import ClientError

        bucket, key = self.split(uri)
        try:
            self.client.delete_object(Bucket=bucket, Key=key, IfMatch=f'"{etag}"')
        except ClientError as e:
            if self._lost(e):
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

    def current_version(self, uri: str) -> str | None:
        from botocore.exceptions import ClientError

        bucket, key = self.split(uri)
        try:
            return self.client.head_object(Bucket=bucket, Key=key).get("VersionId")
        except ClientError as e:
            if self._lost(e):
                return None
            raise

    def _gone(self, error: Exception) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        return code in (*self._LOST, "NoSuchVersion", "InvalidArgument")

    def _source(self, uri: str, version_id: str | None) -> dict[str, str]:
        bucket, key = self.split(uri)
        if version_id is None:  # the current one, named so that every later read gets it
            version_id = self.client.head_object(Bucket=bucket, Key=key).get("VersionId")
        return {"Bucket": bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}

    def pin_version(self, uri: str, version_id: str | None, target: str) -> str:
        from botocore.exceptions import ClientError

        target_bucket, target_key = self.split(target)
        try:
            source = self._source(uri, version_id)
            # A server-side copy (in parts past 5 GB, by boto3's managed copy): no data through
            # the job, and the run reads this version whatever is uploaded meanwhile.
            self.client.copy(source, target_bucket, target_key)
        except ClientError as e:
            if self._gone(e):
                raise VersionGone(f"version {version_id} of {uri} no longer exists") from e
            raise
        return source.get("VersionId", "")

    @contextlib.contextmanager
    def open_version(self, uri: str, version_id: str | None) -> Iterator[tuple[BinaryIO, str]]:
        from botocore.exceptions import ClientError

        try:
            source = self._source(uri, version_id)
            body = self.client.get_object(**source)["Body"]
        except ClientError as e:
            if self._gone(e):
                raise VersionGone(f"version {version_id} of {uri} no longer exists") from e
            raise
        try:
            yield body, source.get("VersionId", "")
        finally:
            body.close()

    def write_stream(self, uri: str, stream: BinaryIO) -> None:
        bucket, key = self.split(uri)
        # Multipart when large; a failed read aborts the upload, so no object appears.
        self.client.upload_fileobj(stream, bucket, key)

    def upload_file(self, path: Path, uri: str) -> None:
        bucket, key = self.split(uri)
        self.client.upload_file(str(path), bucket, key)


def storage_for(uri: str) -> ObjectStore:
    """The store that serves `uri`: S3 for `s3://` (also `s3a://`/`s3n://`), else local."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme in ("s3", "s3a", "s3n"):
        return S3Storage()
    if scheme in ("", "file"):
        return LocalStorage()
    raise ValueError(f"unsupported location {uri!r}: expected s3://, file:// or a local path")
