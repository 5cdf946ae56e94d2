"""The template that `app.py`'s `main()` synthesizes passes cdk-nag's AwsSolutions pack (no error,
no warning; every suppression names its rule and reason) and cfn-lint, and grants Resource "*"
only where AWS allows nothing narrower."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Annotations, Match
from cfnlint.api import ManualArgs, lint
from infra_support import LOG_DELIVERY_ACTIONS, XRAY_ACTIONS, as_list, synthesized

pytestmark = pytest.mark.infra

# Actions whose IAM reference lists no resource type: only Resource "*" can grant them.
STAR_ONLY_ACTIONS = LOG_DELIVERY_ACTIONS | XRAY_ACTIONS | {"cloudwatch:PutMetricData"}


def annotations(level: str) -> list:
    stack = synthesized().stack
    found = Annotations.from_stack(stack)
    finder = found.find_error if level == "error" else found.find_warning
    return finder("*", Match.any_value())


def test_cdk_nag_reports_no_unsuppressed_error():
    assert [(a.id, a.entry.data) for a in annotations("error")] == []


def test_cdk_nag_and_cdk_report_no_warning():
    assert [(a.id, a.entry.data) for a in annotations("warning")] == []


def test_every_suppression_names_an_awssolutions_rule_and_a_real_reason():
    suppressions = [
        rule
        for resource in synthesized().json["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert suppressions, "expected the documented suppressions (X-Ray, log delivery, prefixes)"
    for rule in suppressions:
        assert rule["id"].startswith("AwsSolutions-")
        assert len(rule["reason"]) >= 60, rule
        if rule["id"] == "AwsSolutions-IAM5":
            assert rule.get("applies_to"), f"IAM5 suppressions must name their findings: {rule}"


def test_resource_star_is_granted_only_for_actions_without_resource_level_permissions():
    for logical_id, policy in synthesized().resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "*" in as_list(statement["Resource"]):
                actions = set(as_list(statement["Action"]))
                assert actions <= STAR_ONLY_ACTIONS, (logical_id, actions - STAR_ONLY_ACTIONS)
                if "cloudwatch:PutMetricData" in actions:
                    assert statement["Condition"]["StringEquals"]["cloudwatch:namespace"]


def test_no_role_has_an_aws_managed_policy():
    for role in synthesized().resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_cfn_lint_finds_no_error_in_the_template_nor_in_the_asl_it_holds():
    template = json.dumps(synthesized().json)
    matches = lint(template, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    errors = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches]
    assert [e for e in errors if e.startswith("E")] == []
