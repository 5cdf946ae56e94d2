"""The ingest workflow: the validate Lambda, the state machine loaded from the ASL file with its
substitutions, and the EventBridge rule that starts it for every export uploaded to the raw
bucket (the contract's pattern; the execution input is the event as EventBridge delivers it).
An upload event that EventBridge cannot deliver within its retries lands in a dead-letter queue."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from contract.events import object_created_rule_pattern
from contract.layout import MANIFESTS_PREFIX, RAW_PREFIX
from settings import STATE_MACHINE_FILE, Settings
from stacks.catalog import ATHENA_RESULTS_PREFIX, Catalog
from stacks.checkov_skips import skip_check
from stacks.dead_letters import DeadLetterQueue
from stacks.log_groups import log_group
from stacks.nag import XRAY_REASON, arn_token, suppress
from stacks.patterns import EVENT_MAX_AGE, EVENT_RETRY_ATTEMPTS, event_pattern
from stacks.python_function import PythonFunction
from stacks.transform_job import TransformJob


def state_machine_log_group_name(settings: Settings) -> str:
    # Under /aws/vendedlogs/ so that the log-delivery resource policy stays small.
    return f"/aws/vendedlogs/states/{settings.state_machine_name}"


class Workflow(Construct):
    """Validate -> Transform (Glue .sync) -> ReadManifest -> RegisterPartitions (Athena .sync)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        raw: s3.IBucket,
        curated: s3.IBucket,
        athena_results: s3.IBucket,
        catalog: Catalog,
        transform_job: TransformJob,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        log_key: kms.IKey,
        definition_file: Path = STATE_MACHINE_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.validate = PythonFunction(
            self,
            "Validate",
            settings=settings,
            function_name=settings.validate_function_name,
            handler="functions.validate.handler",
            description="Check an uploaded travel-times export against the data contract",
            code=code,
            layer=layer,
            log_key=log_key,
            timeout=Duration.seconds(60),
            reserved_concurrency=settings.validate_reserved_concurrency,
        )
        skip_check(
            self.validate.function,
            "CKV_AWS_116",
            "Invoked synchronously by the state machine (lambda:invoke), where a dead-letter "
            "queue never applies: a failure fails the execution, and that alerts.",
        )
        # Reads the head of the uploaded object. ListBucket (which S3 checks without any prefix
        # for a missing key) turns a deleted upload into a clear 404 instead of AccessDenied.
        self.validate.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadUploadedExports",
                actions=["s3:GetObject"],
                resources=[raw.arn_for_objects(f"{RAW_PREFIX}*")],
            )
        )
        self.validate.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TellMissingExportsApart",
                actions=["s3:ListBucket"],
                resources=[raw.bucket_arn],
            )
        )
        suppress(
            self.validate.role,
            "AwsSolutions-IAM5",
            "The validator reads whichever export was uploaded, so object access is limited to "
            "the raw bucket's travel_times/ prefix, read only.",
            applies_to=[f"Resource::{arn_token(raw)}/{RAW_PREFIX}*"],
            children=True,
        )

        self.log_group = log_group(
            self,
            "Logs",
            name=state_machine_log_group_name(settings),
            retention_days=settings.log_retention_days,
            key=log_key,  # the log holds execution data: uploaded keys, manifests' counts
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=settings.state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (not an S3 asset) so cfn-lint validates the ASL inside the template.
            definition_body=sfn.DefinitionBody.from_string(definition_file.read_text()),
            definition_substitutions={
                "ValidateFunctionArn": self.validate.function.function_arn,
                "TransformJobName": transform_job.job_name,
                "CuratedBucket": curated.bucket_name,
                "AthenaWorkGroup": catalog.workgroup_name,
                "Database": catalog.database_name,
            },
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=True,
        )
        self.state_machine.node.add_dependency(transform_job.job, catalog.workgroup)
        self._grant(Stack.of(self), curated, athena_results, catalog, transform_job)

        self.dead_letters = DeadLetterQueue(
            self,
            "Undelivered",
            queue_name=f"{settings.state_machine_name}-undelivered",
            purpose="An upload's Object Created event (the ingest workflow did not start)",
        )
        self.trigger = events.Rule(
            self,
            "ObjectCreated",
            description="Start the ingest workflow for each travel-times export uploaded",
            event_pattern=event_pattern(object_created_rule_pattern(raw.bucket_name)),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    max_event_age=EVENT_MAX_AGE,
                    retry_attempts=EVENT_RETRY_ATTEMPTS,
                    dead_letter_queue=self.dead_letters.queue,
                )
            ],
        )

    def _grant(
        self,
        stack: Stack,
        curated: s3.IBucket,
        athena_results: s3.IBucket,
        catalog: Catalog,
        transform_job: TransformJob,
    ) -> None:
        statements = [
            iam.PolicyStatement(
                sid="InvokeValidate",
                actions=["lambda:InvokeFunction"],
                resources=[self.validate.function.function_arn],
            ),
            iam.PolicyStatement(
                sid="RunTheTransformJob",  # glue:startJobRun.sync polls the run
                actions=[
                    "glue:StartJobRun",
                    "glue:GetJobRun",
                    "glue:GetJobRuns",
                    "glue:BatchStopJobRun",
                ],
                resources=[transform_job.job_arn],
            ),
            iam.PolicyStatement(
                sid="ReadManifests",
                actions=["s3:GetObject"],
                resources=[curated.arn_for_objects(f"{MANIFESTS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                # A missing manifest then fails as S3.NoSuchKeyException, not as AccessDenied.
                sid="TellMissingManifestsApart",
                actions=["s3:ListBucket"],
                resources=[curated.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="RunQueriesInTheWorkGroup",  # athena:startQueryExecution.sync polls it
                actions=[
                    "athena:StartQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:StopQueryExecution",
                ],
                resources=[catalog.workgroup_arn],
            ),
            iam.PolicyStatement(
                sid="UseTheDataCatalog",
                actions=["athena:GetDataCatalog"],
                resources=[catalog.data_catalog_arn],
            ),
            iam.PolicyStatement(
                sid="AddPartitions",  # what ALTER TABLE ... ADD IF NOT EXISTS PARTITION needs
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                ],
                resources=[catalog.catalog_arn, catalog.database_arn, catalog.table_arn],
            ),
            iam.PolicyStatement(
                sid="WriteQueryResults",
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[athena_results.arn_for_objects(f"{ATHENA_RESULTS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="LocateQueryResults",
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[athena_results.bucket_arn],
            ),
        ]
        for statement in statements:
            self.state_machine.add_to_role_policy(statement)
        role = self.state_machine.role
        suppress(
            role,
            "AwsSolutions-IAM5",
            "Manifests are named after the execution (manifests/<execution name>.json): read "
            "access is limited to the manifests/ prefix of the curated bucket.",
            applies_to=[f"Resource::{arn_token(curated)}/{MANIFESTS_PREFIX}*"],
            children=True,
        )
        suppress(
            role,
            "AwsSolutions-IAM5",
            "Athena names query result objects after the query execution id: access is limited "
            "to the workgroup's athena/ result prefix.",
            applies_to=[f"Resource::{arn_token(athena_results)}/{ATHENA_RESULTS_PREFIX}*"],
            children=True,
        )
        suppress(
            role,
            "AwsSolutions-IAM5",
            "Logging to CloudWatch Logs uses log-delivery actions (logs:CreateLogDelivery, "
            "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, "
            "PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) that support no "
            f"resource-level permissions, as Step Functions documents. {XRAY_REASON}",
            applies_to=["Resource::*"],
            children=True,
        )
