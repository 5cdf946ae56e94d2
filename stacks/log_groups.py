"""Log groups with the configured retention, named where the service will write, and the KMS keys
that encrypt them."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def log_group_arn(scope: Construct, name: str) -> str:
    """The ARN of the log group `name` (`*` allowed) as CloudWatch Logs writes it into the
    encryption context: `arn:<partition>:logs:<region>:<account>:log-group:<name>`."""
    return Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def log_key(
    scope: Construct, construct_id: str, *, description: str, log_group_names: Sequence[str]
) -> kms.Key:
    """A rotating key that CloudWatch Logs may use for the named log groups only: its key policy
    lets logs.<region>.amazonaws.com use it where the encryption context names one of them, as
    "Encrypt log data in CloudWatch Logs using AWS Key Management Service" shows
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    key = kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.DESTROY,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsForTheseLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": [
                        log_group_arn(scope, name) for name in log_group_names
                    ]
                }
            },
        )
    )
    return key


def log_group(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    retention_days: int,
    key: kms.IKey,
) -> logs.LogGroup:
    """A log group kept for `retention_days` (any value CloudWatch accepts, from cdk.json) and
    encrypted with `key` (made by `log_key` for this name). Destroyed with the stack: a kept group
    with a fixed name would block the next deploy."""
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
