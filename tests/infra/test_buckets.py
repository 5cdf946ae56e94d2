"""The buckets: private, encrypted, TLS-only, access-logged; versioned raw uploads that notify
EventBridge; lifecycle rules where they save money."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match
from infra_support import as_list, synthesized

from contract.layout import STAGING_PREFIX
from stacks.buckets import ATHENA_RESULTS_DAYS, RAW_NONCURRENT_VERSION_DAYS

pytestmark = pytest.mark.infra


def bucket(name: str) -> dict:
    synth = synthesized()
    buckets = synth.stack.buckets
    construct = {
        "raw": buckets.raw,
        "curated": buckets.curated,
        "athena_results": buckets.athena_results,
        "access_logs": buckets.access_logs,
    }[name]
    return synth.resources("AWS::S3::Bucket")[synth.logical_id(construct)]["Properties"]


ALL = ["raw", "curated", "athena_results", "access_logs"]


def test_there_are_exactly_the_four_buckets():
    assert len(synthesized().resources("AWS::S3::Bucket")) == 4


@pytest.mark.parametrize("name", ALL)
def test_every_bucket_is_private_and_encrypted(name):
    props = bucket(name)
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
def test_data_buckets_log_their_accesses_to_the_access_log_bucket(name):
    synth = synthesized()
    logging = bucket(name)["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == synth.ref(synth.stack.buckets.access_logs)
    assert logging["LogFilePrefix"].endswith("/")


@pytest.mark.parametrize("name", ALL)
def test_every_bucket_policy_denies_requests_without_tls_1_2(name):
    synth = synthesized()
    construct = getattr(synth.stack.buckets, name)
    policies = [
        p["Properties"]
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == synth.ref(construct)
    ]
    assert len(policies) == 1
    denies = [s for s in policies[0]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    conditions = [s["Condition"] for s in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
    for statement in denies:
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Action"] == "s3:*"


def test_raw_is_versioned_notifies_eventbridge_and_expires_replaced_versions():
    props = bucket("raw")
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


def test_no_custom_resource_lambda_is_needed_for_notifications():
    assert not synthesized().resources("Custom::S3BucketNotifications")


def test_athena_results_expire_and_curated_staging_leftovers_expire():
    results = bucket("athena_results")["LifecycleConfiguration"]["Rules"]
    assert any(r.get("ExpirationInDays") == ATHENA_RESULTS_DAYS for r in results)
    curated = bucket("curated")["LifecycleConfiguration"]["Rules"]
    staging = [r for r in curated if r.get("Prefix") == STAGING_PREFIX]
    assert staging and staging[0]["ExpirationInDays"] > 0
    # Nothing else in the lake expires.
    assert all("ExpirationInDays" not in r for r in curated if r.get("Prefix") != STAGING_PREFIX)


def test_buckets_are_kept_when_the_stack_is_deleted():
    synthesized().template.all_resources(
        "AWS::S3::Bucket", Match.object_like({"DeletionPolicy": "Retain"})
    )


def test_bucket_names_end_in_account_and_region():
    for name in ALL:
        parts = as_list(bucket(name)["BucketName"]["Fn::Join"][1])
        assert {"Ref": "AWS::AccountId"} in parts and {"Ref": "AWS::Region"} in parts
