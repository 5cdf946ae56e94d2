"""The few object-store operations the job needs, on local folders and on S3: `ObjectStore`
(`base`), with `LocalStorage` (`local`) and `S3Storage` (`s3`); `storage_for(uri)` picks one.

Locations are URIs: `s3://bucket/key`, `file:///abs/path`, or a plain local path. Hand-written
rather than fsspec/s3fs because those are not guaranteed on AWS Glue (boto3 is), and the job
needs what generic file layers hide: an atomic local rename, S3's conditional writes
(`If-None-Match: *` to create, `If-Match: <etag>` to replace or delete only what was read) for
the publish lock, and reading one exact version of an object.

A package inside `glue/`: the stack ships `glue/` whole (every `.py` under it, see
`stacks/packaging.py`) in the job's `--extra-py-files`."""

from __future__ import annotations

from glue.object_store.base import ObjectStore, VersionGone, join
from glue.object_store.local import LocalStorage, keep_version, local_version_id, version_path
from glue.object_store.s3 import S3Storage

__all__ = [
    "LocalStorage",
    "ObjectStore",
    "S3Storage",
    "VersionGone",
    "join",
    "keep_version",
    "local_version_id",
    "storage_for",
    "version_path",
]


def storage_for(uri: str) -> ObjectStore:
    """The store that serves `uri`: S3 for `s3://` (also `s3a://`/`s3n://`), else local."""
    scheme = uri.split("://", 1)[0] if "://" in uri else ""
    if scheme in ("s3", "s3a", "s3n"):
        return S3Storage()
    if scheme in ("", "file"):
        return LocalStorage()
    raise ValueError(f"unsupported location {uri!r}: expected s3://, file:// or a local path")
