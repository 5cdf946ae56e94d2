"""Objects as files under local folders: `LocalStorage`, and object versions kept the way the
local runtime stores them: a version of `<dir>/<name>` is a hard link at
`<dir>/.versions/<name>/<version id>`, the id being `local_version_id` of the file (its size and
modification time), the one the runtime puts in the object's event."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from glue.object_store.base import ObjectStore, VersionGone

VERSIONS = ".versions"


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


def _may_hold(folder: str, prefix: str) -> bool:
    return folder.startswith(prefix) or prefix.startswith(folder)


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
