"""Dead-letter queues: what EventBridge (or Lambda's asynchronous invocation) could not deliver
after all its retries lands here instead of vanishing, and an alarm tells the alert topic at once.

Each queue is encrypted at rest (SSE-SQS: SQS-owned keys, so that senders such as EventBridge need
no KMS grant that could silently fail), refuses requests without TLS, and keeps a message 14 days,
the most SQS allows, so that there is time to act. The README's "Replay undelivered events" says
how. EventBridge's side: "Using dead-letter queues to process undelivered events"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html#eb-rule-dlq)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.checkov_skips import skip_check
from stacks.nag import suppress

RETENTION = Duration.days(14)  # SQS's maximum message retention
# SQS publishes its metrics every minute while a queue is active; a queue idle for hours may take
# a few minutes to report again, so look at 5-minute maxima.
ALARM_PERIOD = Duration.minutes(5)


class DeadLetterQueue(Construct):
    """`queue`, named `queue_name`, for the events that `purpose` could not deliver."""

    def __init__(
        self, scope: Construct, construct_id: str, *, queue_name: str, purpose: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.queue_name = queue_name
        self.purpose = purpose
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
        )
        suppress(
            self.queue,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue (of an EventBridge rule target, whose "
            "DeadLetterConfig cdk-nag does not read); a dead-letter queue of it would only move "
            "the messages one queue further.",
        )
        skip_check(
            self.queue,
            "CKV_AWS_27",
            "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); the check only reads "
            "KmsMasterKeyId. SQS-owned keys need no KMS grant for EventBridge to write.",
        )

    def alarm_on_arrival(self, topic: sns.ITopic) -> cloudwatch.Alarm:
        """An alarm, named after the queue, that publishes to `topic` as soon as a message is
        visible in the queue (and does not while it stays empty)."""
        alarm = cloudwatch.Alarm(
            self,
            "NotEmpty",
            alarm_name=f"{self.queue_name}-not-empty",
            alarm_description=(
                f"{self.purpose} could not be delivered and waits in the SQS queue "
                f"{self.queue_name} (kept 14 days). Replay it as the README's "
                "'Replay undelivered events' says."
            ),
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=ALARM_PERIOD, statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return alarm
