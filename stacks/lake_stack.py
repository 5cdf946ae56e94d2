"""The one stack of movement-lake: buckets, catalog, transform job, workflow and alerts, deployed
together by one `cdk deploy`. Environment-agnostic, so `cdk synth` needs no AWS credentials."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from settings import GLUE_SCRIPT, STATE_MACHINE_FILE, Settings
from stacks.alerts import Alerts
from stacks.backfill import Backfill, backfill_log_group_name
from stacks.buckets import Buckets
from stacks.catalog import Catalog
from stacks.log_groups import log_key
from stacks.python_function import lambda_code, powertools_layer
from stacks.transform_job import TransformJob
from stacks.workflow import Workflow, state_machine_log_group_name


class MovementLakeStack(Stack):
    """S3 -> EventBridge -> Step Functions (validate Lambda -> Glue .sync -> Athena .sync), with
    an e-mail alert for every execution that ends badly."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        glue_script: Path = GLUE_SCRIPT,
        definition_file: Path = STATE_MACHINE_FILE,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.settings = settings
        # Construct ids predate the class names; kept so that logical ids (and with them the
        # retained buckets of a deployed stack) do not change.
        self.buckets = Buckets(self, "Storage", settings=settings)
        self.catalog = Catalog(
            self,
            "Catalog",
            settings=settings,
            curated=self.buckets.curated,
            athena_results=self.buckets.athena_results,
        )
        self.transform_job = TransformJob(
            self,
            "Transform",
            settings=settings,
            raw=self.buckets.raw,
            curated=self.buckets.curated,
            script=glue_script,
        )
        code, layer = lambda_code(), powertools_layer(self)
        # One key for the logs of both Lambdas and the state machine (the Glue job has its own).
        self.log_key = log_key(
            self,
            "LogsKey",
            description=f"{settings.name_prefix}: Lambda and state machine logs",
            log_group_names=[
                f"/aws/lambda/{settings.validate_function_name}",
                f"/aws/lambda/{settings.alert_function_name}",
                state_machine_log_group_name(settings),
                backfill_log_group_name(settings),
            ],
        )
        self.workflow = Workflow(
            self,
            "Ingest",
            settings=settings,
            raw=self.buckets.raw,
            curated=self.buckets.curated,
            athena_results=self.buckets.athena_results,
            catalog=self.catalog,
            transform_job=self.transform_job,
            code=code,
            layer=layer,
            log_key=self.log_key,
            definition_file=definition_file,
        )
        self.backfill = Backfill(
            self,
            "Backfill",
            settings=settings,
            raw=self.buckets.raw,
            curated=self.buckets.curated,
            ingest=self.workflow.state_machine,
            log_key=self.log_key,
        )
        self.alerts = Alerts(
            self,
            "Alerts",
            settings=settings,
            state_machine=self.workflow.state_machine,
            code=code,
            layer=layer,
            log_key=self.log_key,
        )

        # Alarms in one place: anything in either dead-letter queue reaches the alert topic.
        for dead_letters in (self.workflow.dead_letters, self.alerts.dead_letters):
            dead_letters.alarm_on_arrival(self.alerts.topic)

        outputs = {
            "RawBucket": (self.buckets.raw.bucket_name, "Upload exports to travel_times/<city>/"),
            "CuratedBucket": (self.buckets.curated.bucket_name, "The Parquet lake"),
            "StateMachineArn": (
                self.workflow.state_machine.state_machine_arn,
                "One execution per uploaded export",
            ),
            "BackfillStateMachineArn": (
                self.backfill.state_machine.state_machine_arn,
                "Re-process a raw-bucket prefix (make backfill PREFIX=travel_times/<city>/)",
            ),
            "AthenaWorkGroup": (self.catalog.workgroup_name, "Query the lake in this workgroup"),
            "Database": (self.catalog.database_name, "Glue database of the travel_times table"),
            "AlertTopicArn": (self.alerts.topic.topic_arn, "Alerts of failed executions"),
            "UndeliveredUploadsQueueUrl": (
                self.workflow.dead_letters.queue.queue_url,
                "Upload events that did not start the workflow (replay: README)",
            ),
            "UndeliveredAlertsQueueUrl": (
                self.alerts.dead_letters.queue.queue_url,
                "Status-change events whose alert was not sent (replay: README)",
            ),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
