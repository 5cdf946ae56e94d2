"""Dead-letter queues: encrypted, TLS-only, kept 14 days, with an alarm that reaches the alert topic
as soon as a message arrives; the stack has one for each EventBridge target (start the workflow,
alert), and the alert Lambda's failed asynchronous invocations land in the alert one too."""

from __future__ import annotations

import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from infra_support import fresh_stack, synthesized

from stacks.dead_letters import DeadLetterQueue

pytestmark = pytest.mark.infra

FOURTEEN_DAYS = 14 * 24 * 3600


@pytest.fixture(scope="module")
def one_queue() -> Template:
    stack = fresh_stack()
    topic = sns.Topic(stack, "Topic")
    DeadLetterQueue(stack, "Dlq", queue_name="x-undelivered", purpose="Something").alarm_on_arrival(
        topic
    )
    return Template.from_stack(stack)


def test_the_queue_is_encrypted_and_keeps_messages_fourteen_days(one_queue):
    one_queue.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": "x-undelivered",
            "SqsManagedSseEnabled": True,
            "MessageRetentionPeriod": FOURTEEN_DAYS,
        },
    )


def test_the_queue_refuses_requests_without_tls(one_queue):
    one_queue.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sqs:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_a_message_in_the_queue_raises_an_alarm_that_publishes_to_the_topic(one_queue):
    topic_id = next(iter(one_queue.find_resources("AWS::SNS::Topic")))
    one_queue.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "x-undelivered-not-empty",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "Statistic": "Maximum",
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": topic_id}],
        },
    )


def test_the_sse_sqs_encryption_is_explained_to_checkov(one_queue):
    (queue,) = one_queue.find_resources("AWS::SQS::Queue").values()
    skips = queue["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_27"]
    assert "SSE-SQS" in skips[0]["comment"]


def test_both_eventbridge_targets_have_a_dead_letter_queue_with_an_alarm_to_the_alert_topic():
    synth = synthesized()
    stack = synth.stack
    topic = synth.ref(stack.alerts.topic)
    alarms = synth.resources("AWS::CloudWatch::Alarm").values()
    for dead_letters in (stack.workflow.dead_letters, stack.alerts.dead_letters):
        queue = synth.logical_id(dead_letters.queue)
        (alarm,) = [
            a["Properties"]
            for a in alarms
            if a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
        ]
        assert alarm["AlarmActions"] == [topic]
    targets = {
        target["Arn"]["Ref"] if "Ref" in target["Arn"] else target["Arn"]["Fn::GetAtt"][0]: target
        for rule in synth.resources("AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
    }
    machine = synth.logical_id(stack.workflow.state_machine)
    alert = synth.logical_id(stack.alerts.alert.function)
    assert targets[machine]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [synth.logical_id(stack.workflow.dead_letters.queue), "Arn"]}
    }
    assert targets[alert]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [synth.logical_id(stack.alerts.dead_letters.queue), "Arn"]}
    }


def test_the_alarms_are_named_so_that_the_alert_topic_lets_them_publish():
    synth = synthesized()
    prefix = synth.stack.settings.name_prefix
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmName"].startswith(f"{prefix}-")
