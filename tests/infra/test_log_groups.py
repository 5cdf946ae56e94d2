"""Log groups: every one has the configured retention and a KMS key whose policy lets CloudWatch
Logs use it for that log group only (by the encryption context), including the Lambdas' and the
state machine's, whose logs carry execution data."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template
from infra_support import as_list, fresh_stack, synthesized

from settings import load_settings
from stacks.log_groups import log_group, log_key

pytestmark = pytest.mark.infra


def logs_statements(key_props: dict) -> list[dict]:
    return [
        s
        for s in key_props["KeyPolicy"]["Statement"]
        if s.get("Principal", {}).get("Service")
        == {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    ]


def test_a_log_key_lets_cloudwatch_logs_use_it_for_the_named_groups_only():
    stack = fresh_stack()
    key = log_key(stack, "Key", description="logs", log_group_names=["/a", "/b/*"])
    log_group(stack, "Group", name="/a", retention_days=7, key=key)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"LogGroupName": "/a", "RetentionInDays": 7, "KmsKeyId": Match.object_like({})},
    )
    (key_props,) = [r["Properties"] for r in template.find_resources("AWS::KMS::Key").values()]
    assert key_props["EnableKeyRotation"] is True
    (statement,) = logs_statements(key_props)
    context = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    names = [json.dumps(arn) for arn in context]
    assert len(names) == 2
    assert names[0].endswith(':log-group:/a"]]}') and names[1].endswith(':log-group:/b/*"]]}')
    assert "kms:Decrypt*" in as_list(statement["Action"])


def test_every_log_group_of_the_stack_is_encrypted_with_a_key_scoped_to_it():
    synth = synthesized()
    keys = synth.resources("AWS::KMS::Key")
    for group in synth.resources("AWS::Logs::LogGroup").values():
        props = group["Properties"]
        assert props["RetentionInDays"] == load_settings().log_retention_days
        key_id = props["KmsKeyId"]["Fn::GetAtt"][0]
        (statement,) = logs_statements(keys[key_id]["Properties"])
        patterns = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
        name = props["LogGroupName"]
        suffixes = [json.dumps(p).split(":log-group:")[1].split('"')[0] for p in patterns]
        assert any(
            name == suffix or (suffix.endswith("*") and name.startswith(suffix[:-1]))
            for suffix in suffixes
        ), (name, suffixes)


@pytest.mark.parametrize("function", ["validate", "alert"])
def test_the_lambdas_write_to_their_encrypted_group(function):
    synth = synthesized()
    construct = {
        "validate": synth.stack.workflow.validate,
        "alert": synth.stack.alerts.alert,
    }[function]
    props = synth.resources("AWS::Lambda::Function")[synth.logical_id(construct.function)][
        "Properties"
    ]
    group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    group = synth.resources("AWS::Logs::LogGroup")[group_id]["Properties"]
    assert group["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
    assert group["KmsKeyId"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.log_key), "Arn"]}
