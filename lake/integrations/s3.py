"""`arn:aws:states:::aws-sdk:s3:getObject` played locally, over the lake home's bucket folders.

The SDK integration returns the GetObject response with the body as text, and names errors
`S3.<Java SDK exception>` (e.g. `S3.NoSuchKeyException`), as Step Functions does."""

from __future__ import annotations

import secrets
from typing import Any

from botocore.exceptions import ClientError

from lake.asl import TaskFailure, TaskRequest
from lake.home import LakeHome
from lake.s3 import LocalS3Client

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
