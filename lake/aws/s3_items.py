"""The S3 calls of a Distributed Map, played on the lake home's bucket folders: its ItemReader's
`arn:aws:states:::s3:listObjectsV2` and `arn:aws:states:::s3:getObject`, and its ResultWriter's
`arn:aws:states:::s3:putObject` (Step Functions guide, "ItemReader (Map)" and "ResultWriter
(Map)"; the interpreter's side of these calls is `lake.asl.map_io`).

`list_objects_v2` answers as S3's ListObjectsV2 does (API reference, ListObjectsV2): keys in
UTF-8 binary order, at most MaxKeys (default and maximum 1,000) per page, an opaque
NextContinuationToken while IsTruncated, StartAfter, KeyCount. The ItemReader integration hands
the Map each object as Step Functions does: `Key`, `Etag` (quoted, as S3 lists it), `Size`,
`LastModified` (epoch seconds) and `StorageClass`."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from lake.asl import TaskFailure, TaskRequest
from lake.aws.s3 import bucket_objects, file_etag, put_file_bytes
from lake.home import LakeHome, NotInBucket

MAX_KEYS = 1000


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode()


def _after_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError("The continuation token provided is incorrect") from e


def list_objects_v2(
    home: LakeHome,
    *,
    Bucket: str,
    Prefix: str = "",
    MaxKeys: int = MAX_KEYS,
    ContinuationToken: str | None = None,
    StartAfter: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    """ListObjectsV2 over a bucket folder (no Delimiter: every key under the prefix)."""
    root = home.bucket_path(Bucket)
    objects = bucket_objects(root) if root.is_dir() else []
    keys = sorted(objects, key=lambda kp: kp[0].encode("utf-8"))  # S3 lists in UTF-8 order
    after = _after_token(ContinuationToken) if ContinuationToken else StartAfter or ""
    selected = [(k, p) for k, p in keys if k.startswith(Prefix) and k.encode() > after.encode()]
    limit = max(0, min(int(MaxKeys), MAX_KEYS))
    page, rest = selected[:limit], selected[limit:]
    response: dict[str, Any] = {
        "IsTruncated": bool(rest),
        "Name": Bucket,
        "Prefix": Prefix,
        "MaxKeys": limit,
        "KeyCount": len(page),
        "Contents": [
            {
                "Key": key,
                "LastModified": dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(
                    microsecond=0
                ),
                "ETag": file_etag(path),
                "Size": path.stat().st_size,
                "StorageClass": "STANDARD",
            }
            for key, path in page
        ],
    }
    if ContinuationToken:
        response["ContinuationToken"] = ContinuationToken
    if rest:
        response["NextContinuationToken"] = _token(page[-1][0])
    if not page:
        del response["Contents"]  # S3 leaves Contents out of an empty page
    return response


def _failure(error: Exception, operation: str) -> TaskFailure:
    """An S3 error as Step Functions names it (`S3.<Java SDK exception>`)."""
    if isinstance(error, NotInBucket):
        code, status = "NoSuchBucketException", 404
    elif isinstance(error, FileNotFoundError):
        code, status = "NoSuchKeyException", 404
    else:
        code, status = "S3Exception", 400
    return TaskFailure(
        f"S3.{code}",
        f"{error} (Service: S3, Status Code: {status}, Request ID: "
        f"{secrets.token_hex(8).upper()}, operation {operation})",
    )


class S3ListObjectsItems:
    """`arn:aws:states:::s3:listObjectsV2`: one page of a listing, each object as the Map's
    item."""

    def __init__(self, home: LakeHome) -> None:
        self.home = home

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        try:
            page = list_objects_v2(self.home, **request.parameters)
        except (NotInBucket, ValueError) as e:
            raise _failure(e, "ListObjectsV2") from e
        items = [
            {
                "Etag": item["ETag"],
                "Key": item["Key"],
                "LastModified": int(item["LastModified"].timestamp()),
                "Size": item["Size"],
                "StorageClass": item["StorageClass"],
            }
            for item in page.get("Contents", [])
        ]
        answer: dict[str, Any] = {"Contents": items, "IsTruncated": page["IsTruncated"]}
        if "NextContinuationToken" in page:
            answer["NextContinuationToken"] = page["NextContinuationToken"]
        return answer


class S3GetObjectItems:
    """`arn:aws:states:::s3:getObject`: the text of an item file (JSON, JSONL or CSV)."""

    def __init__(self, home: LakeHome) -> None:
        self.home = home

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        params = request.parameters
        try:
            data = self.home.object_path(params["Bucket"], params["Key"]).read_bytes()
        except (NotInBucket, FileNotFoundError, IsADirectoryError) as e:
            missing = (
                e
                if isinstance(e, NotInBucket)
                else FileNotFoundError("The specified key does not exist.")
            )
            raise _failure(missing, "GetObject") from e
        try:
            return {"Body": data.decode("utf-8-sig")}
        except UnicodeDecodeError as e:
            raise TaskFailure(
                "States.ItemReaderFailed",
                f"s3://{params['Bucket']}/{params['Key']} is not UTF-8 text",
            ) from e


class S3PutObjectResults:
    """`arn:aws:states:::s3:putObject`: a ResultWriter file, written whole (atomically)."""

    def __init__(self, home: LakeHome) -> None:
        self.home = home

    def __call__(self, request: TaskRequest) -> dict[str, Any]:
        params = request.parameters
        body = params.get("Body", "")
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        try:
            path = put_file_bytes(self.home, params["Bucket"], params["Key"], data)
        except NotInBucket as e:
            raise _failure(e, "PutObject") from e
        return {"ETag": file_etag(path)}
