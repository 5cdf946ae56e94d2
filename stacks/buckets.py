"""The lake's buckets: raw uploads, the curated Parquet lake, Athena results, and the access logs
of all three. Private, encrypted, TLS-only, logged; lifecycle rules where they save money. Raw
and curated are versioned: a replaced upload and a mistaken publish can both be undone for a
configurable number of days (the README's "Undo a publish")."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contract.layout import STAGING_PREFIX
from settings import Settings
from stacks.checkov_skips import skip_check

RAW_NONCURRENT_VERSION_DAYS = 30  # how long a replaced upload stays recoverable
ATHENA_RESULTS_DAYS = 30
ACCESS_LOG_DAYS = 365
STAGING_DAYS = 7  # leftovers of Glue runs that were killed mid-write
INCOMPLETE_UPLOAD_DAYS = 7


class Buckets(Construct):
    """Four buckets. Bucket names end in account and region (bucket names are global); they are
    kept when the stack is destroyed, because they hold the data."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        suffix = f"{Aws.ACCOUNT_ID}-{Aws.REGION}"

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            bucket_name=f"{settings.name_prefix}-access-logs-{suffix}",
            # S3 server access logging can only deliver to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_DAYS))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.raw = self._bucket(
            "Raw",
            settings.raw_bucket,
            versioned=True,  # an upload to the same key replaces a file: keep what it replaced
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(RAW_NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                )
            ],
        )
        # EventBridge notifications set on the bucket itself (CDK's `event_bridge_enabled` adds a
        # custom-resource Lambda to do what CloudFormation does natively).
        raw_cfn = self.raw.node.default_child
        assert isinstance(raw_cfn, s3.CfnBucket)
        raw_cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )

        self.curated = self._bucket(
            "Curated",
            settings.curated_bucket,
            # A publish replaces and deletes Parquet files: keep what it replaced, so that a
            # mistaken publish can be rolled back, for curatedNoncurrentVersionDays.
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(prefix=STAGING_PREFIX, expiration=Duration.days(STAGING_DAYS)),
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(
                        settings.curated_noncurrent_version_days
                    ),
                    # Once its noncurrent versions are gone, a delete marker is only clutter.
                    expired_object_delete_marker=True,
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                ),
            ],
        )

        self.athena_results = self._bucket(
            "AthenaResults",
            settings.athena_results_bucket,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(ATHENA_RESULTS_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                )
            ],
        )

        skip_check(
            self.access_logs,
            "CKV_AWS_18",
            "It is the access-log bucket of the others; logging its own accesses into itself "
            "would log the log deliveries, a loop S3's server access logging guide warns against.",
        )
        skip_check(
            self.access_logs,
            "CKV_AWS_21",
            "Log objects are written once under unique names, never replaced, and expire after "
            f"{ACCESS_LOG_DAYS} days: versioning would keep nothing more.",
        )
        skip_check(
            self.athena_results,
            "CKV_AWS_21",
            "Query results are disposable (re-created by running the query again) and expire "
            f"after {ATHENA_RESULTS_DAYS} days: versions would only keep expired results longer.",
        )

    def _bucket(self, construct_id: str, base_name: str, **props: object) -> s3.Bucket:
        """A private, encrypted, TLS-only bucket named `<base_name>-<account>-<region>` whose
        access logs go under `<base_name>/` in the access log bucket."""
        return s3.Bucket(
            self,
            construct_id,
            bucket_name=f"{base_name}-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{base_name}/",
            removal_policy=RemovalPolicy.RETAIN,
            **props,  # type: ignore[arg-type]
        )
