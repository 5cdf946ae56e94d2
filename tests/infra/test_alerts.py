"""Alerts: the status-change rule of this state machine feeds the alert Lambda, which publishes
to a KMS-encrypted, TLS-only topic with the e-mail subscription from the context; the Lambda's
failed asynchronous invocations are kept in a dead-letter queue; this stack's CloudWatch alarms
may publish to the topic and use its key."""

from __future__ import annotations

import json

import pytest
from infra_support import as_list, synthesized

from contract.events import alert_rule_pattern
from settings import load_settings

pytestmark = pytest.mark.infra


def alert_function() -> tuple[str, dict]:
    synth = synthesized()
    logical_id = synth.logical_id(synth.stack.alerts.alert.function)
    return logical_id, synth.resources("AWS::Lambda::Function")[logical_id]["Properties"]


def test_failed_timed_out_and_aborted_executions_of_this_machine_reach_the_alert_lambda():
    synth = synthesized()
    function_id, _ = alert_function()
    rules = [
        r["Properties"]
        for r in synth.resources("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    (rule,) = rules
    machine = synth.ref(synth.stack.workflow.state_machine)
    assert rule["EventPattern"] == alert_rule_pattern(machine)  # type: ignore[arg-type]
    assert set(rule["EventPattern"]["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    # EventBridge may invoke it.
    permissions = [
        p["Properties"]
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [function_id, "Arn"]}
    ]
    assert any(p["Principal"] == "events.amazonaws.com" for p in permissions)


def test_the_topic_is_kms_encrypted_and_refuses_publishing_without_tls():
    synth = synthesized()
    topic = synth.only("AWS::SNS::Topic")
    assert topic["KmsMasterKeyId"] == {
        "Fn::GetAtt": [synth.logical_id(synth.stack.alerts.key), "Arn"]
    }
    assert topic["TopicName"] == load_settings().alert_topic_name
    (policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and "sns:Publish" in as_list(s["Action"])
        for s in statements
    )


def test_every_kms_key_rotates():
    for key in synthesized().resources("AWS::KMS::Key").values():
        assert key["Properties"]["EnableKeyRotation"] is True


def test_the_alert_email_from_the_context_is_subscribed():
    synth = synthesized()
    subscription = synth.only("AWS::SNS::Subscription")
    assert subscription["Protocol"] == "email"
    assert subscription["Endpoint"] == load_settings().alert_email
    assert subscription["TopicArn"] == synth.ref(synth.stack.alerts.topic)


def test_the_alert_lambda_publishes_to_the_topic_and_falls_back_to_it_when_it_fails():
    synth = synthesized()
    function_id, props = alert_function()
    topic = synth.ref(synth.stack.alerts.topic)
    assert props["Handler"] == "functions.alert.handler"
    assert props["Environment"]["Variables"]["ALERT_TOPIC_ARN"] == topic
    (config,) = synth.resources("AWS::Lambda::EventInvokeConfig").values()
    assert config["Properties"]["FunctionName"] == {"Ref": function_id}
    assert config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == topic


def test_the_alert_role_reads_histories_of_this_state_machine_only():
    synth = synthesized()
    statements = synth.policy_statements(synth.stack.alerts.alert.role)
    (history,) = [s for s in statements if "states:GetExecutionHistory" in as_list(s["Action"])]
    name = load_settings().state_machine_name
    assert json.dumps(history["Resource"]).endswith(f':execution:{name}:*"]]}}')
    publish = [s for s in statements if "sns:Publish" in as_list(s["Action"])]
    assert publish and all(s["Resource"] == synth.ref(synth.stack.alerts.topic) for s in publish)


def test_the_alert_lambda_keeps_failed_invocations_and_is_capped():
    synth = synthesized()
    _, props = alert_function()
    queue = synth.logical_id(synth.stack.alerts.dead_letters.queue)
    assert props["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue, "Arn"]}}
    assert props["ReservedConcurrentExecutions"] == load_settings().alert_reserved_concurrency
    statements = synth.policy_statements(synth.stack.alerts.alert.role)
    assert {
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    } in statements


def cloudwatch_statement(statements: list[dict]) -> dict:
    (statement,) = [
        s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    return statement


def test_the_stacks_alarms_may_publish_to_the_topic_and_use_its_key():
    synth = synthesized()
    prefix = load_settings().name_prefix
    (policy,) = synth.resources("AWS::SNS::TopicPolicy").values()
    publish = cloudwatch_statement(policy["Properties"]["PolicyDocument"]["Statement"])
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = json.dumps(publish["Condition"]["ArnLike"]["aws:SourceArn"])
    assert source.endswith(f':alarm:{prefix}-*"]]}}')
    key = synth.resources("AWS::KMS::Key")[synth.logical_id(synth.stack.alerts.key)]
    use = cloudwatch_statement(key["Properties"]["KeyPolicy"]["Statement"])
    assert set(as_list(use["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert use["Condition"] == publish["Condition"]
