"""S3 played locally: buckets are folders of the lake home. `LocalS3Client` serves the calls the
project's boto3 code makes (the validator's), and `S3GetObject` the workflow's
`arn:aws:states:::aws-sdk:s3:getObject` task.

Why not moto or botocore's Stubber: both are test tools. moto patches every botocore call of the
process and keeps objects in its own memory, while the lake's buckets are folders that other
programs and other `lake` processes write; the Stubber replays canned answers. The validator
needs four calls, so the runtime serves exactly those, with boto3's shapes and error codes
(`botocore.exceptions.ClientError` with `NoSuchKey`/`404`, `client.exceptions.NoSuchKey`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import secrets
import types
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from glue.object_store import VersionGone, local_version_id, version_path
from lake.asl import TaskFailure, TaskRequest
from lake.home import LakeHome, NotInBucket


class NoSuchKey(ClientError):
    """boto3's `client.exceptions.NoSuchKey`."""


class NoSuchBucket(ClientError):
    """boto3's `client.exceptions.NoSuchBucket`."""


def _error(cls: type[ClientError], code: str, message: str, operation: str, status: int):
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return cls(response, operation)  # type: ignore[arg-type]


def file_etag(path: Path) -> str:
    """S3's ETag of a single-part upload: the MD5 of the content, hex, in double quotes."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return f'"{digest.hexdigest()}"'


def is_object(root: Path, path: Path) -> bool:
    """Whether a file of a bucket folder is an object: hidden files and folders are the
    runtime's (atomic writes under way, kept versions in `.versions/`), as S3 shows neither."""
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def bucket_objects(root: Path) -> list[tuple[str, Path]]:
    """Every object of a bucket folder: (key, file), sorted by key."""
    found = [
        (path.relative_to(root).as_posix(), path)
        for path in root.rglob("*")
        if is_object(root, path) and path.is_file()
    ]
    return sorted(found)


def _parse_range(header: str, size: int) -> tuple[int, int]:
    """`bytes=a-b`, `bytes=a-` or `bytes=-n` -> inclusive (first, last), clamped like S3."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or match.groups() == ("", ""):
        raise ValueError(f"unsupported Range {header!r}")
    first, last = match.groups()
    if first == "":
        return max(size - int(last), 0), size - 1
    return int(first), min(int(last) if last else size - 1, size - 1)


class LocalS3Client:
    """The subset of boto3's S3 client the project's code calls, served from a lake home."""

    def __init__(self, home: LakeHome) -> None:
        self.home = home
        self.exceptions = types.SimpleNamespace(
            NoSuchKey=NoSuchKey, NoSuchBucket=NoSuchBucket, ClientError=ClientError
        )

    def _path(self, bucket: str, key: str, operation: str) -> Path:
        try:
            path = self.home.object_path(bucket, key)
        except NotInBucket as e:
            raise _error(NoSuchBucket, "NoSuchBucket", str(e), operation, 404) from e
        if not path.is_file():
            if operation == "HeadObject":  # HEAD has no body, so S3 answers a bare 404
                raise _error(ClientError, "404", "Not Found", operation, 404)
            raise _error(
                NoSuchKey, "NoSuchKey", "The specified key does not exist.", operation, 404
            )
        return path

    @staticmethod
    def _metadata(path: Path) -> dict[str, Any]:
        stat = path.stat()
        return {
            "ContentLength": stat.st_size,
            "ETag": file_etag(path),
            "LastModified": dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).replace(microsecond=0),
            "ContentType": "text/csv" if ".csv" in path.name else "binary/octet-stream",
            "VersionId": local_version_id(path),
            "AcceptRanges": "bytes",
            "Metadata": {},
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def _version(self, bucket: str, key: str, version: str | None, operation: str) -> Path:
        """The file of that version of the object (kept versions, see glue.object_store)."""
        path = self._path(bucket, key, operation) if version is None else None
        if path is not None:
            return path
        try:
            return version_path(self.home.object_path(bucket, key), version)[0]
        except (VersionGone, NotInBucket) as e:
            # S3 answers an unknown version of an existing key with NoSuchVersion (404).
            raise _error(
                ClientError,
                "NoSuchVersion",
                "The specified version does not exist.",
                operation,
                404,
            ) from e

    def head_object(
        self, *, Bucket: str, Key: str, VersionId: str | None = None, **_: Any
    ) -> dict[str, Any]:
        return self._metadata(self._version(Bucket, Key, VersionId, "HeadObject"))

    def get_object(
        self,
        *,
        Bucket: str,
        Key: str,
        Range: str | None = None,
        VersionId: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        path = self._version(Bucket, Key, VersionId, "GetObject")
        meta = self._metadata(path)
        size = meta["ContentLength"]
        with path.open("rb") as f:
            if Range:
                first, last = _parse_range(Range, size)
                if first >= size:
                    raise _error(
                        ClientError,
                        "InvalidRange",
                        "The requested range is not satisfiable",
                        "GetObject",
                        416,
                    )
                f.seek(first)
                data = f.read(last - first + 1)
                meta["ContentRange"] = f"bytes {first}-{last}/{size}"
                meta["ResponseMetadata"] = {"HTTPStatusCode": 206}
            else:
                data = f.read()
        meta["ContentLength"] = len(data)
        # (imported here: it pulls in urllib3, a tenth of a second every `lake` command would pay)
        from botocore.response import StreamingBody

        meta["Body"] = StreamingBody(io.BytesIO(data), len(data))
        return meta

    def put_object(self, *, Bucket: str, Key: str, Body: bytes | str, **_: Any) -> dict[str, Any]:
        data = Body.encode() if isinstance(Body, str) else bytes(Body)
        path = put_file_bytes(self.home, Bucket, Key, data)
        return {"ETag": file_etag(path), "ResponseMetadata": {"HTTPStatusCode": 200}}


def put_file_bytes(home: LakeHome, bucket: str, key: str, data: bytes) -> Path:
    """Write an object atomically: a hidden temporary file renamed into place, so that a watcher
    never sees half an object (S3 objects appear whole, too)."""
    path = home.object_path(bucket, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def copy_file_into(home: LakeHome, bucket: str, key: str, source: Path) -> Path:
    """Copy a local file into a bucket atomically (see put_file_bytes)."""
    path = home.object_path(bucket, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                dst.write(chunk)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# The SDK integration names errors `S3.<Java SDK exception>`, as Step Functions does.
_EXCEPTIONS = {"NoSuchKey": "NoSuchKeyException", "NoSuchBucket": "NoSuchBucketException"}


class S3GetObject:
    """The local `aws-sdk:s3:getObject` integration."""

    def __init__(self, home: LakeHome) -> None:
        self.client = LocalS3Client(home)

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        params = request.parameters
        try:
            response = self.client.get_object(
                Bucket=params["Bucket"], Key=params["Key"], Range=params.get("Range")
            )
        except ClientError as e:
            code = e.response["Error"]["Code"]
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            raise TaskFailure(
                f"S3.{_EXCEPTIONS.get(code, 'S3Exception')}",
                f"{e.response['Error']['Message']} (Service: S3, Status Code: {status}, "
                f"Request ID: {secrets.token_hex(8).upper()})",
            ) from e
        body = response.pop("Body").read()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise TaskFailure(
                "States.Runtime", f"the body of s3://{params['Bucket']}/{params['Key']} is not text"
            ) from e
        response.pop("ResponseMetadata", None)
        return {
            **response,
            "Body": text,
            "LastModified": response["LastModified"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
