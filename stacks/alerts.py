"""Alerts: every execution that ends FAILED, TIMED_OUT or ABORTED reaches the e-mail subscribers
of an encrypted, TLS-only SNS topic, in plain words.

Routing: EventBridge "Execution Status Change" -> the alert Lambda, which reads the execution's
history to name the state that failed and publishes to the topic. Should the Lambda itself fail
(after Lambda's own retries), its on-failure destination is the same topic, so the raw event still
reaches the inbox, and the event is also kept in a dead-letter queue for replay; so is an event
that EventBridge could not deliver to the Lambda at all. The topic lets this stack's CloudWatch
alarms publish (the dead-letter queues' alarms)."""

from __future__ import annotations

from aws_cdk import Annotations, ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from contract.events import alert_rule_pattern
from settings import Settings
from stacks.dead_letters import DeadLetterQueue
from stacks.nag import suppress
from stacks.patterns import EVENT_MAX_AGE, EVENT_RETRY_ATTEMPTS, event_pattern
from stacks.python_function import PythonFunction

ALERT_RETRY_ATTEMPTS = 2


class Alerts(Construct):
    """The topic, its e-mail subscription, the alert Lambda, the status-change rule, and the
    dead-letter queue for the alerts that could not be sent."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        state_machine: sfn.IStateMachine,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description=f"{settings.alert_topic_name}: alert messages at rest",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=settings.alert_topic_name,
            display_name="movement-lake alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        self._let_alarms_publish(stack, settings)
        if settings.alert_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alert_email))
        else:
            Annotations.of(self).add_info(
                "No alertEmail in the CDK context: alerts go to the topic without a subscriber. "
                "Deploy with `-c alertEmail=you@example.com` to receive them."
            )

        self.dead_letters = DeadLetterQueue(
            self,
            "Undelivered",
            queue_name=f"{settings.alert_function_name}-undelivered",
            purpose="A failed execution's status-change event (its alert e-mail was not sent)",
        )
        self.alert = PythonFunction(
            self,
            "Alert",
            settings=settings,
            function_name=settings.alert_function_name,
            handler="functions.alert.handler",
            description="E-mail the file, failed state, error and re-run steps of a failed run",
            code=code,
            layer=layer,
            log_key=log_key,
            timeout=Duration.seconds(60),
            reserved_concurrency=settings.alert_reserved_concurrency,
            environment={"ALERT_TOPIC_ARN": self.topic.topic_arn},
            # Asynchronous invocations that fail after Lambda's retries are kept for replay.
            dead_letter_queue=self.dead_letters.queue,
        )
        function = self.alert.function
        function.configure_async_invoke(
            retry_attempts=ALERT_RETRY_ATTEMPTS,
            on_failure=destinations.SnsDestination(self.topic),
        )
        # For a KMS-encrypted topic this also grants kms:Decrypt, kms:GenerateDataKey* on its key.
        self.topic.grant_publish(self.alert.role)
        execution_arns = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{settings.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.alert.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadFailedExecutions",
                actions=["states:GetExecutionHistory"],
                resources=[execution_arns],
            )
        )
        suppress(
            self.alert.role,
            "AwsSolutions-IAM5",
            "EventBridge names the executions it starts: history is readable for the executions "
            "of this one state machine only.",
            applies_to=[
                "Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"{settings.state_machine_name}:*"
            ],
            children=True,
        )
        suppress(
            self.alert.role,
            "AwsSolutions-IAM5",
            "Publishing to the KMS-encrypted topic needs kms:GenerateDataKey* (as granted by "
            "Topic.grantPublish) on the topic's own key, and on no other key.",
            applies_to=["Action::kms:GenerateDataKey*"],
            children=True,
        )

        self.rule = events.Rule(
            self,
            "ExecutionEndedBadly",
            description="Alert on every ingest execution that fails, times out or is aborted",
            event_pattern=event_pattern(alert_rule_pattern(state_machine.state_machine_arn)),
            targets=[
                targets.LambdaFunction(
                    function,
                    max_event_age=EVENT_MAX_AGE,
                    retry_attempts=EVENT_RETRY_ATTEMPTS,
                    dead_letter_queue=self.dead_letters.queue,
                )
            ],
        )

    def _let_alarms_publish(self, stack: Stack, settings: Settings) -> None:
        """CloudWatch alarms of this stack (named `<namePrefix>-*`) may publish to the topic and
        use its key: the topic's policy allows only what it names, and an encrypted topic needs
        kms:Decrypt and kms:GenerateDataKey* for the service that publishes, as "Enable
        compatibility between event sources from AWS services and encrypted topics" says
        (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""
        principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        conditions = {
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=f"{settings.name_prefix}-*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            },
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
        }
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisStack",
                principals=[principal],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=conditions,
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisStack",
                principals=[principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=conditions,
            )
        )
