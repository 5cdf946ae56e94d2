"""A Lambda function of this repository's `functions/` package: Python 3.11 (the project's
interpreter, so what is tested is what runs), Powertools from the AWS-managed layer, X-Ray
tracing, its own KMS-encrypted log group with retention and its own role with no managed policy."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from settings import Settings
from stacks.checkov_skips import skip_check
from stacks.log_groups import log_group
from stacks.nag import XRAY_REASON, suppress
from stacks.packaging import package_folder

RUNTIME = lambda_.Runtime.PYTHON_3_11
# The Powertools version pinned in pyproject.toml; its layer ARN is resolved at deploy time from
# the public SSM parameter Powertools publishes for each release, runtime and architecture.
POWERTOOLS_VERSION = "3.37.0"
POWERTOOLS_LAYER_PARAMETER = (
    f"/aws/service/powertools/python/x86_64/{RUNTIME.name}/{POWERTOOLS_VERSION}"
)


def lambda_code() -> lambda_.Code:
    """The functions and the data contract, nothing else (no dependencies: Powertools comes from
    the layer, boto3 from the runtime)."""
    return lambda_.Code.from_asset(package_folder("lambda", ["functions", "contract"]))


def powertools_layer(scope: Construct) -> lambda_.ILayerVersion:
    arn = ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER)
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)


class PythonFunction(Construct):
    """`function` runs `handler` (e.g. "functions.validate.handler") with `role`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        function_name: str,
        handler: str,
        description: str,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        log_key: kms.IKey,
        timeout: Duration,
        reserved_concurrency: int,
        memory_size: int = 256,
        environment: Mapping[str, str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(
            self,
            "Logs",
            name=f"/aws/lambda/{function_name}",
            retention_days=settings.log_retention_days,
            key=log_key,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: {description}",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=handler,
            code=code,
            layers=[layer],
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            timeout=timeout,
            memory_size=memory_size,
            # A cap, so that a runaway (an upload loop, an alert storm) cannot take the account's
            # whole concurrency from its other functions; beyond it calls are throttled and retried.
            reserved_concurrent_executions=reserved_concurrency,
            dead_letter_queue=dead_letter_queue,
            environment={
                "POWERTOOLS_SERVICE_NAME": function_name,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **(environment or {}),
            },
        )
        self.log_group.grant_write(self.role)
        suppress(
            self.role,
            "AwsSolutions-IAM5",
            XRAY_REASON,  # tracing: Active adds the X-Ray statement
            applies_to=["Resource::*"],
            children=True,
        )
        suppress(
            self.function,
            "AwsSolutions-L1",
            f"Pinned to {RUNTIME.name}, the interpreter the project is developed and tested on "
            "(pyproject.toml, and Glue 5.1's Python), so the tested code is the code that runs; "
            "the Powertools layer is chosen for this runtime.",
        )
        skip_check(
            self.function,
            "CKV_AWS_117",
            "It calls only AWS APIs (S3, SNS, Step Functions) over TLS with IAM auth and reaches "
            "no private resource; a VPC would add NAT or endpoints and nothing to protect.",
        )
        skip_check(
            self.function,
            "CKV_AWS_173",
            "Its variables hold no secret (service name, log level, a topic ARN); Lambda encrypts "
            "them at rest with its AWS-managed key.",
        )
