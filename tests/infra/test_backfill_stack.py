"""The backfill construct: its state machine is the ASL file itself (STANDARD, logging ALL with
execution data to a KMS-encrypted group, X-Ray), its role holds exactly what the definition uses,
and the stack outputs its ARN."""

from __future__ import annotations

import json

import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from infra_support import PLACEHOLDER, as_list, fresh_stack, synthesized

from settings import BACKFILL_STATE_MACHINE_FILE, load_settings
from stacks.backfill import Backfill, backfill_log_group_name, map_run_label

pytestmark = pytest.mark.infra

SETTINGS = load_settings()


@pytest.fixture(scope="module")
def built():
    """A fresh stack holding the two buckets, an ingest state machine and the backfill."""
    stack = fresh_stack()
    raw, curated = s3.Bucket(stack, "Raw"), s3.Bucket(stack, "Curated")
    ingest = sfn.StateMachine(
        stack,
        "Ingest",
        state_machine_name=SETTINGS.state_machine_name,
        definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Pass")),
    )
    key = kms.Key(stack, "LogKey")
    backfill = Backfill(
        stack, "Backfill", settings=SETTINGS, raw=raw, curated=curated, ingest=ingest, log_key=key
    )
    return stack, backfill, Template.from_stack(stack)


def _logical_id(stack, construct) -> str:
    return stack.get_logical_id(construct.node.default_child)


def _machine(built) -> dict:
    stack, backfill, template = built
    return template.find_resources("AWS::StepFunctions::StateMachine")[
        _logical_id(stack, backfill.state_machine)
    ]["Properties"]


def _statements(built) -> dict[str, dict]:
    stack, backfill, template = built
    role = {"Ref": _logical_id(stack, backfill.state_machine.role)}
    statements = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if role in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                statements[statement.get("Sid", "(no sid)")] = statement
    return statements


def _arn_text(value) -> str:
    """An ARN built with Fn::Join as one readable string."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(
            part if isinstance(part, str) else json.dumps(part) for part in value["Fn::Join"][1]
        )
    return json.dumps(value)


def test_the_state_machine_is_the_asl_file_with_the_stacks_substitutions(built):
    props = _machine(built)
    assert props["StateMachineName"] == SETTINGS.backfill_state_machine_name
    assert props["StateMachineType"] == "STANDARD"
    assert json.loads(props["DefinitionString"]) == json.loads(
        BACKFILL_STATE_MACHINE_FILE.read_text()
    )
    placeholders = set(PLACEHOLDER.findall(BACKFILL_STATE_MACHINE_FILE.read_text()))
    assert set(props["DefinitionSubstitutions"]) == placeholders
    assert props["DefinitionSubstitutions"]["DefaultMaxConcurrency"] == str(
        SETTINGS.glue_max_concurrent_runs
    )


def test_it_logs_everything_to_an_encrypted_group_and_traces(built):
    stack, backfill, template = built
    props = _machine(built)
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert (logging["Level"], logging["IncludeExecutionData"]) == ("ALL", True)
    group = template.find_resources("AWS::Logs::LogGroup")[_logical_id(stack, backfill.log_group)]
    assert group["Properties"]["LogGroupName"] == backfill_log_group_name(SETTINGS)
    assert group["Properties"]["RetentionInDays"] == SETTINGS.log_retention_days
    assert "KmsKeyId" in group["Properties"]


def test_the_role_starts_and_follows_only_ingest_executions(built):
    stack, _, _ = built
    statements = _statements(built)
    start = statements["StartIngestExecutions"]
    assert as_list(start["Action"]) == ["states:StartExecution"]
    assert start["Resource"] == {
        "Ref": stack.get_logical_id(stack.node.find_child("Ingest").node.default_child)
    }
    follow = statements["FollowIngestExecutions"]
    assert sorted(as_list(follow["Action"])) == ["states:DescribeExecution", "states:StopExecution"]
    assert _arn_text(follow["Resource"]).endswith(f":execution:{SETTINGS.state_machine_name}:*")
    rule = statements["LearnWhenIngestExecutionsEnd"]
    assert sorted(as_list(rule["Action"])) == [
        "events:DescribeRule",
        "events:PutRule",
        "events:PutTargets",
    ]
    assert _arn_text(rule["Resource"]).endswith(
        ":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    )


def test_the_role_runs_and_redrives_only_its_own_map_runs_children(built):
    statements = _statements(built)
    name = SETTINGS.backfill_state_machine_name
    label = map_run_label(BACKFILL_STATE_MACHINE_FILE)
    assert label == "ReprocessFiles"
    start = statements["RunChildWorkflowExecutions"]
    assert as_list(start["Action"]) == ["states:StartExecution"]
    assert _arn_text(start["Resource"]).endswith(f":stateMachine:{name}")
    children = statements["FollowAndRedriveChildWorkflowExecutions"]
    assert sorted(as_list(children["Action"])) == [
        "states:DescribeExecution",
        "states:RedriveExecution",
        "states:StopExecution",
    ]
    assert _arn_text(children["Resource"]).endswith(f":execution:{name}/{label}:*")


def test_the_role_lists_raw_exports_reads_commit_records_and_writes_results_only(built):
    statements = _statements(built)
    listing = statements["ListRawExports"]
    assert as_list(listing["Action"]) == ["s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["travel_times/*"]}}
    records = statements["ReadCommitRecords"]
    assert as_list(records["Action"]) == ["s3:GetObject"]
    assert _arn_text(records["Resource"]).endswith("/_commits/travel_times/*")
    results = statements["WriteResults"]
    assert "s3:PutObject" in as_list(results["Action"])
    assert _arn_text(results["Resource"]).endswith("/backfills/*")
    # nothing else reads or writes objects
    object_actions = {
        sid
        for sid, s in statements.items()
        if any(a.startswith("s3:") and "Object" in a for a in as_list(s["Action"]))
    }
    assert object_actions == {"ReadCommitRecords", "WriteResults"}
    # and every statement but the log-delivery / X-Ray one names its resources
    wildcard = [sid for sid, s in statements.items() if s["Resource"] == "*"]
    assert wildcard == ["(no sid)"]
    assert all(a.startswith(("logs:", "xray:")) for a in as_list(statements["(no sid)"]["Action"]))


def test_the_stack_outputs_the_backfill_state_machine_arn():
    synth = synthesized()
    output = synth.json["Outputs"]["BackfillStateMachineArn"]
    assert output["Value"] == {"Ref": synth.logical_id(synth.stack.backfill.state_machine)}
