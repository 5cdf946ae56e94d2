"""Objects in Amazon S3, through boto3: `S3Storage`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from glue.object_store.base import ObjectStore, VersionGone


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
