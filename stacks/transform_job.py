"""The Glue 5.1 Spark job that turns one export into the Parquet lake: the script and the
`glue` + `contract` packages as assets, encrypted logs and bookmarks, sizes from cdk.json (auto
scaling up to the configured number of workers), job run queuing for bursts, no Glue-level retries
(the workflow owns retries), and a role limited to what the job touches.

Bursts, and why the workflow still retries a little (AWS Glue job run statuses, "WAITING":
https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html). With job run queuing on, a run
that would exceed the job's MaxConcurrentRuns, the account's concurrent job runs, the account's
concurrent DPUs, or that finds no capacity, waits in Glue's queue (WAITING) instead of failing
with ConcurrentRunsExceededException; `glue:startJobRun.sync` waits with it. Queuing covers the
runs, not the API call that starts them: StartJobRun's own request-rate throttling and Glue's
internal or timeout errors still fail the call, so the Transform state keeps a short Retry for
those only. Queuing requires the STANDARD execution class and MaxRetries 0 (it is not offered for
Flex or for jobs that Glue retries itself), which is what this job uses."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Aws, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from contract.layout import (
    COMMITS_PREFIX,
    MANIFESTS_PREFIX,
    RAW_PREFIX,
    REJECTS_PREFIX,
    STAGING_PREFIX,
    TABLE_PREFIX,
)
from settings import GLUE_SCRIPT, Settings
from stacks.log_groups import log_group, log_group_arn, log_key
from stacks.nag import arn_token, suppress
from stacks.packaging import package_folder

GLUE_VERSION = "5.1"
# Everything the job writes in the curated bucket (see glue/publish.py).
CURATED_WRITE_PREFIXES = (
    TABLE_PREFIX,
    REJECTS_PREFIX,
    # Spark writes under _staging/<run id>/; without a slash this also covers the
    # "_staging_$folder$" marker Glue's S3 file system may create for the folder itself.
    STAGING_PREFIX.rstrip("/"),
    COMMITS_PREFIX + RAW_PREFIX,  # commit records and publish locks, named by source key
    MANIFESTS_PREFIX,
)


class TransformJob(Construct):
    """The `glueetl` job and its role, security configuration and log groups."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        raw: s3.IBucket,
        curated: s3.IBucket,
        script: Path = GLUE_SCRIPT,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.job_name = settings.transform_job_name
        self.job_arn = stack.format_arn(service="glue", resource="job", resource_name=self.job_name)
        log_prefix = f"/aws-glue/jobs/{self.job_name}"

        # One key for the job's CloudWatch logs and bookmarks (the security configuration). Glue
        # names the groups itself under the prefix (suffixed per security configuration).
        self.key = log_key(
            self,
            "Key",
            description=f"{self.job_name}: Glue job logs and bookmarks",
            log_group_names=["/aws-glue/jobs/*"],
        )
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"{settings.name_prefix}-glue",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    # The lake is read by Athena users; SSE-S3 matches the bucket's encryption.
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(s3_encryption_mode="SSE-S3")
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=self.key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=self.key.key_arn
                ),
            ),
        )
        self.log_groups = [
            log_group(
                self,
                f"{stream.capitalize()}Logs",
                name=f"{log_prefix}/{stream}",
                retention_days=settings.log_retention_days,
                key=self.key,
            )
            for stream in ("error", "output")
        ]

        if not script.is_file():
            raise FileNotFoundError(f"the Glue job's entry script {script} does not exist")
        self.script = s3_assets.Asset(self, "Script", path=str(script))
        self.py_files = s3_assets.Asset(
            self, "PyFiles", path=package_folder("glue-py-files", ["glue", "contract"])
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"{self.job_name}: read one raw export, write the curated lake",
        )
        self._grant(stack, raw, curated)

        self.job = glue.CfnJob(
            self,
            "Job",
            name=self.job_name,
            description="Transform one Uber Movement travel-times export into the Parquet lake",
            role=self.role.role_arn,
            glue_version=GLUE_VERSION,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=self.script.s3_object_url
            ),
            worker_type=settings.glue_worker_type,
            number_of_workers=settings.glue_number_of_workers,
            timeout=settings.glue_timeout_minutes,
            max_retries=0,  # the state machine retries what is transient (and queuing needs 0)
            execution_property=glue.CfnJob.ExecutionPropertyProperty(
                # Bursts of uploads run side by side up to this; the runs beyond it wait in
                # Glue's queue (job_run_queuing_enabled) until one ends.
                max_concurrent_runs=settings.glue_max_concurrent_runs
            ),
            job_run_queuing_enabled=True,
            execution_class="STANDARD",  # queuing is not offered for FLEX
            security_configuration=self.security_configuration.name,
            default_arguments={
                "--job-language": "python",
                "--extra-py-files": self.py_files.s3_object_url,
                "--enable-continuous-cloudwatch-log": "true",
                "--enable-metrics": "true",
                "--enable-observability-metrics": "true",
                # Glue adds executors as Spark asks for them, up to NumberOfWorkers, and releases
                # idle ones: a small file costs two workers, a large one grows to the maximum
                # (https://docs.aws.amazon.com/glue/latest/dg/auto-scaling.html).
                "--enable-auto-scaling": "true",
                "--custom-logGroup-prefix": log_prefix,
                "--job-bookmark-option": "job-bookmark-disable",  # each run is one named file
                **settings.job_arguments(curated.bucket_name),
            },
        )
        self.job.node.add_dependency(self.security_configuration, *self.log_groups)

    def _grant(self, stack: Stack, raw: s3.IBucket, curated: s3.IBucket) -> None:
        partition = Aws.PARTITION
        statements = [
            iam.PolicyStatement(
                sid="ReadTheJobsCode",
                actions=["s3:GetObject"],
                resources=[
                    f"arn:{partition}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}"
                    for asset in (self.script, self.py_files)
                ],
            ),
            iam.PolicyStatement(
                sid="ReadRawExports",
                # GetObjectVersion: the job reads (copies) exactly the version the event named.
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[raw.arn_for_objects(f"{RAW_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="ListRawExports",  # so a missing export is a 404, not AccessDenied
                actions=["s3:ListBucket"],
                resources=[raw.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteTheLake",
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[curated.arn_for_objects(f"{p}*") for p in CURATED_WRITE_PREFIXES],
            ),
            iam.PolicyStatement(
                sid="ListTheLake",
                actions=["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"],
                resources=[curated.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteJobLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_group_arn(self, "/aws-glue/jobs/*")],
            ),
            iam.PolicyStatement(
                sid="PublishJobMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            ),
        ]
        statements.append(
            iam.PolicyStatement(
                sid="EncryptLogsAndBookmarks",
                actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                resources=[self.key.key_arn],
            )
        )
        for statement in statements:
            self.role.add_to_principal_policy(statement)

        suppress(
            self.role,
            "AwsSolutions-IAM5",
            "Raw exports are read by the key the upload chose; read-only and limited to the raw "
            "bucket's travel_times/ prefix.",
            applies_to=[f"Resource::{arn_token(raw)}/{RAW_PREFIX}*"],
            children=True,
        )
        suppress(
            self.role,
            "AwsSolutions-IAM5",
            "The job names its Parquet parts, rejects, staging files, commit records and "
            "manifests at run time; access is limited to those prefixes of the curated bucket.",
            applies_to=[f"Resource::{arn_token(curated)}/{p}*" for p in CURATED_WRITE_PREFIXES],
            children=True,
        )
        suppress(
            self.role,
            "AwsSolutions-IAM5",
            "Glue creates and names the job's log groups and streams itself (under "
            "/aws-glue/jobs/, suffixed per security configuration and run); the groups the job "
            "is configured to use are pre-created with retention and this key.",
            applies_to=[
                "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                "log-group:/aws-glue/jobs/*"
            ],
            children=True,
        )
        suppress(
            self.role,
            "AwsSolutions-IAM5",
            "cloudwatch:PutMetricData supports no resource-level permission (Resource '*' only); "
            "a condition limits it to the Glue namespace of the job's metrics.",
            applies_to=["Resource::*"],
            children=True,
        )
