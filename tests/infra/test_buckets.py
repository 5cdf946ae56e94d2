"""The buckets, on a stack of their own: private, encrypted, TLS-only, access-logged; versioned raw
uploads that notify EventBridge; a versioned curated lake whose replaced files are kept for the
configured days; lifecycle rules where they save money; and the checks that do not fit the
access-log and Athena-results buckets skipped with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from infra_support import as_list, fresh_stack

from contract.layout import STAGING_PREFIX
from settings import load_settings
from stacks.buckets import ATHENA_RESULTS_DAYS, RAW_NONCURRENT_VERSION_DAYS, Buckets

pytestmark = pytest.mark.infra

ALL = ["raw", "curated", "athena_results", "access_logs"]


class Built:
    def __init__(self) -> None:
        self.stack = fresh_stack()
        self.settings = load_settings({"curatedNoncurrentVersionDays": 21})
        self.buckets = Buckets(self.stack, "Buckets", settings=self.settings)
        self.template = Template.from_stack(self.stack)

    def logical_id(self, name: str) -> str:
        construct = getattr(self.buckets, name)
        return self.stack.get_logical_id(construct.node.default_child)

    def resource(self, name: str) -> dict[str, Any]:
        return self.template.find_resources("AWS::S3::Bucket")[self.logical_id(name)]

    def props(self, name: str) -> dict[str, Any]:
        return self.resource(name)["Properties"]


@pytest.fixture(scope="module")
def built() -> Built:
    return Built()


def test_there_are_exactly_the_four_buckets(built):
    built.template.resource_count_is("AWS::S3::Bucket", 4)


@pytest.mark.parametrize("name", ALL)
def test_every_bucket_is_private_and_encrypted(built, name):
    props = built.props(name)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("name", ["raw", "curated", "athena_results"])
def test_data_buckets_log_their_accesses_to_the_access_log_bucket(built, name):
    logging = built.props(name)["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": built.logical_id("access_logs")}
    assert logging["LogFilePrefix"].endswith("/")


@pytest.mark.parametrize("name", ALL)
def test_every_bucket_policy_denies_requests_without_tls_1_2(built, name):
    policies = [
        p["Properties"]
        for p in built.template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": built.logical_id(name)}
    ]
    assert len(policies) == 1
    denies = [s for s in policies[0]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    conditions = [s["Condition"] for s in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
    for statement in denies:
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Action"] == "s3:*"


def test_raw_is_versioned_notifies_eventbridge_and_expires_replaced_versions(built):
    props = built.props("raw")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    rules = props["LifecycleConfiguration"]["Rules"]
    assert any(
        r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        == RAW_NONCURRENT_VERSION_DAYS
        for r in rules
    )
    assert all("ExpirationInDays" not in r for r in rules)  # current uploads are kept


def test_curated_is_versioned_and_keeps_replaced_files_for_the_configured_days(built):
    props = built.props("curated")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = props["LifecycleConfiguration"]["Rules"]
    (noncurrent,) = [r for r in rules if "NoncurrentVersionExpiration" in r]
    assert noncurrent["NoncurrentVersionExpiration"] == {"NoncurrentDays": 21}
    assert noncurrent["ExpiredObjectDeleteMarker"] is True
    assert "Prefix" not in noncurrent  # the whole lake, staging and records included


def test_the_curated_noncurrent_days_default_to_cdk_json():
    assert load_settings().curated_noncurrent_version_days == 30


def test_no_custom_resource_lambda_is_needed_for_notifications(built):
    assert not built.template.find_resources("Custom::S3BucketNotifications")


def test_athena_results_expire_and_curated_staging_leftovers_expire(built):
    results = built.props("athena_results")["LifecycleConfiguration"]["Rules"]
    assert any(r.get("ExpirationInDays") == ATHENA_RESULTS_DAYS for r in results)
    curated = built.props("curated")["LifecycleConfiguration"]["Rules"]
    staging = [r for r in curated if r.get("Prefix") == STAGING_PREFIX]
    assert staging and staging[0]["ExpirationInDays"] > 0
    # Nothing else in the lake expires.
    assert all("ExpirationInDays" not in r for r in curated if r.get("Prefix") != STAGING_PREFIX)


def test_buckets_are_kept_when_the_stack_is_deleted(built):
    built.template.all_resources("AWS::S3::Bucket", Match.object_like({"DeletionPolicy": "Retain"}))


def test_bucket_names_end_in_account_and_region(built):
    for name in ALL:
        parts = as_list(built.props(name)["BucketName"]["Fn::Join"][1])
        assert {"Ref": "AWS::AccountId"} in parts and {"Ref": "AWS::Region"} in parts


@pytest.mark.parametrize(
    ("name", "skipped"),
    [
        ("access_logs", {"CKV_AWS_18", "CKV_AWS_21"}),
        ("athena_results", {"CKV_AWS_21"}),
        ("raw", set()),
        ("curated", set()),
    ],
)
def test_only_the_checks_that_do_not_fit_are_skipped_each_with_a_reason(built, name, skipped):
    skips = built.resource(name).get("Metadata", {}).get("checkov", {}).get("skip", [])
    assert {s["id"] for s in skips} == skipped
    assert all(len(s["comment"]) >= 60 for s in skips)
