"""The backfill workflow: a second state machine, loaded from its ASL file like the ingest one,
whose Distributed Map lists the raw bucket under a prefix and starts the ingest workflow once per
export (`states:startExecution.sync:2`), with bounded concurrency, and writes its results to the
curated bucket's `backfills/`. Started by hand (`make backfill`, the console or the CLI), never by
an event.

Its role holds exactly what the definition uses, as the Step Functions guide lists it:
"IAM policies for using Distributed Map states" (child workflow executions of itself, the
ItemReader's listing, the ResultWriter's writes, redriving a Map Run's children),
"Start a new AWS Step Functions state machine from a running execution" and "IAM policies for
integrated services" (StartExecution of the ingest state machine, Describe/StopExecution of its
executions, and the managed EventBridge rule `StepFunctionsGetEventsForStepFunctionsExecutionRule`
through which `.sync` learns that a child ended)."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from contract.layout import COMMITS_PREFIX, RAW_PREFIX
from settings import BACKFILL_STATE_MACHINE_FILE, Settings
from stacks.log_groups import log_group
from stacks.nag import XRAY_REASON, arn_token, suppress

RESULTS_PREFIX = "backfills/"  # the ResultWriter's Prefix in the ASL file
# The job's commit records: _commits/<source key>.json (contract.layout.commit_record_key).
COMMIT_RECORDS = f"{COMMITS_PREFIX}{RAW_PREFIX}"
SYNC_RULE = "StepFunctionsGetEventsForStepFunctionsExecutionRule"


def backfill_log_group_name(settings: Settings) -> str:
    # Under /aws/vendedlogs/ so that the log-delivery resource policy stays small.
    return f"/aws/vendedlogs/states/{settings.backfill_state_machine_name}"


def map_run_label(definition_file: Path) -> str:
    """The label of the definition's Distributed Map (its Label, else its state name): the
    child executions are named `<state machine>/<label>:<id>`."""
    states = json.loads(definition_file.read_text())["States"]
    for name, state in states.items():
        processor = state.get("ItemProcessor") or {}
        if processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED":
            return state.get("Label", name)
    raise ValueError(f"{definition_file.name} has no Distributed Map state")


class Backfill(Construct):
    """The backfill state machine, its encrypted log group and its least-privilege role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        raw: s3.IBucket,
        curated: s3.IBucket,
        ingest: sfn.IStateMachine,
        log_key: kms.IKey,
        definition_file: Path = BACKFILL_STATE_MACHINE_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(
            self,
            "Logs",
            name=backfill_log_group_name(settings),
            retention_days=settings.log_retention_days,
            key=log_key,  # the log holds execution data: raw keys and their outcomes
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=settings.backfill_state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Inline (not an S3 asset) so cfn-lint validates the ASL inside the template.
            definition_body=sfn.DefinitionBody.from_string(definition_file.read_text()),
            definition_substitutions={
                "RawBucket": raw.bucket_name,
                "CuratedBucket": curated.bucket_name,
                "IngestStateMachineArn": ingest.state_machine_arn,
                # More at once than the job runs at once would only wait in Glue's queue.
                "DefaultMaxConcurrency": str(settings.glue_max_concurrent_runs),
            },
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=True,
        )
        self._grant(settings, raw, curated, ingest, map_run_label(definition_file))

    def _grant(
        self,
        settings: Settings,
        raw: s3.IBucket,
        curated: s3.IBucket,
        ingest: sfn.IStateMachine,
        label: str,
    ) -> None:
        stack = Stack.of(self)

        def states_arn(resource: str, name: str) -> str:
            return stack.format_arn(
                service="states",
                resource=resource,
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )

        # Built from the name, not the construct: a role may not refer to its own state machine.
        own_name = settings.backfill_state_machine_name
        children = states_arn("execution", f"{own_name}/{label}:*")
        ingest_executions = states_arn("execution", f"{settings.state_machine_name}:*")
        sync_rule = stack.format_arn(service="events", resource="rule", resource_name=SYNC_RULE)
        statements = [
            iam.PolicyStatement(
                sid="StartIngestExecutions",
                actions=["states:StartExecution"],
                resources=[ingest.state_machine_arn],
            ),
            iam.PolicyStatement(
                sid="FollowIngestExecutions",  # .sync:2 describes the child, stops it on abort
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[ingest_executions],
            ),
            iam.PolicyStatement(
                sid="LearnWhenIngestExecutionsEnd",  # the .sync integration's managed rule
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[sync_rule],
            ),
            iam.PolicyStatement(
                sid="RunChildWorkflowExecutions",  # the Distributed Map's children run as
                actions=["states:StartExecution"],  # executions of this state machine
                resources=[states_arn("stateMachine", own_name)],
            ),
            iam.PolicyStatement(
                sid="FollowAndRedriveChildWorkflowExecutions",
                actions=[
                    "states:DescribeExecution",
                    "states:StopExecution",
                    "states:RedriveExecution",
                ],
                resources=[children],
            ),
            iam.PolicyStatement(
                sid="ListRawExports",  # the ItemReader, under travel_times/ only
                actions=["s3:ListBucket"],
                resources=[raw.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{RAW_PREFIX}*"]}},
            ),
            iam.PolicyStatement(
                sid="ReadCommitRecords",  # only_failed
                actions=["s3:GetObject"],
                resources=[curated.arn_for_objects(f"{COMMIT_RECORDS}*")],
            ),
            iam.PolicyStatement(
                # A key without a commit record then fails as S3.NoSuchKeyException (caught: the
                # key never succeeded), not as AccessDenied.
                sid="TellMissingCommitRecordsApart",
                actions=["s3:ListBucket"],
                resources=[curated.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteResults",  # the ResultWriter ("ResultWriter (Map)": IAM policies)
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:AbortMultipartUpload",
                ],
                resources=[curated.arn_for_objects(f"{RESULTS_PREFIX}*")],
            ),
        ]
        for statement in statements:
            self.state_machine.add_to_role_policy(statement)
        role = self.state_machine.role
        reasons = {
            f"Resource::{arn_token(curated)}/{COMMIT_RECORDS}*": "Commit records are named "
            "after the raw key they record (_commits/<source key>.json), which the backfill "
            "reads for any file under its prefix: read access is limited to that prefix.",
            f"Resource::{arn_token(curated)}/{RESULTS_PREFIX}*": "The ResultWriter names its "
            "files after the Map Run's id (backfills/<map run id>/...): access is limited to "
            "the backfills/ prefix of the curated bucket.",
            "Resource::*": "Logging to CloudWatch Logs uses log-delivery actions "
            "(logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, "
            "ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) "
            f"that support no resource-level permissions, as Step Functions documents. "
            f"{XRAY_REASON}",
        }
        for applies_to, reason in reasons.items():
            suppress(role, "AwsSolutions-IAM5", reason, applies_to=[applies_to], children=True)
        suppress(
            role,
            "AwsSolutions-IAM5",
            "Executions get their names when they start: the backfill follows and stops only "
            "executions of the ingest state machine (execution:<ingest>:*), and of its own Map "
            "Run's children (execution:<backfill>/<label>:*), as the Distributed Map's IAM "
            "policies prescribe.",
            applies_to=[
                f"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
                f"execution:{name}:*"
                for name in (settings.state_machine_name, f"{own_name}/{label}")
            ],
            children=True,
        )
