"""Local task integrations: one thin adapter per AWS service the workflow calls, keyed by the
Task `Resource` ARN they serve. A definition with a Resource that has no adapter here is
refused when the runtime starts (see `missing`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from lake.asl import Integration

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
GLUE_START_JOB_RUN_SYNC = "arn:aws:states:::glue:startJobRun.sync"
S3_GET_OBJECT = "arn:aws:states:::aws-sdk:s3:getObject"
ATHENA_START_QUERY_SYNC = "arn:aws:states:::athena:startQueryExecution.sync"
SNS_PUBLISH = "arn:aws:states:::sns:publish"

SUPPORTED_RESOURCES = (
    LAMBDA_INVOKE,
    GLUE_START_JOB_RUN_SYNC,
    S3_GET_OBJECT,
    ATHENA_START_QUERY_SYNC,
    SNS_PUBLISH,
)


class MissingIntegration(ValueError):
    """The definition calls a service the local runtime cannot play."""


def missing(resources: Iterable[str], integrations: Mapping[str, Integration]) -> list[str]:
    """The Task resources with no local integration, sorted."""
    return sorted(set(resources) - set(integrations))
