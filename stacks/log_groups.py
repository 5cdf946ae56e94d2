"""Log groups with the configured retention, named where the service will write."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def log_group(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    retention_days: int,
    key: kms.IKey | None = None,
) -> logs.LogGroup:
    """A log group kept for `retention_days` (any value CloudWatch accepts, from cdk.json).
    Destroyed with the stack: a kept group with a fixed name would block the next deploy."""
    group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        encryption_key=key,
        retention=logs.RetentionDays.INFINITE,  # replaced below by the configured number
        removal_policy=RemovalPolicy.DESTROY,
    )
    cfn = group.node.default_child
    assert isinstance(cfn, logs.CfnLogGroup)
    cfn.retention_in_days = retention_days
    return group
