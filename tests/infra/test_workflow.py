"""The workflow: the contract's Object Created rule starts the state machine; the state machine is
the ASL file itself (STANDARD, logging ALL with execution data, X-Ray); the validate Lambda; and
the state machine role's IAM statements, each limited to what a state uses."""

from __future__ import annotations

import json

import pytest
from infra_support import (
    LOG_DELIVERY_ACTIONS,
    PLACEHOLDER,
    XRAY_ACTIONS,
    as_list,
    synthesized,
)

from contract.events import object_created_rule_pattern
from settings import STATE_MACHINE_FILE, load_settings

pytestmark = pytest.mark.infra


def state_machine() -> dict:
    synth = synthesized()
    machines = synth.resources("AWS::StepFunctions::StateMachine")
    return machines[synth.logical_id(synth.stack.workflow.state_machine)]["Properties"]


def rule_for(target_logical_id: str) -> dict:
    rules = [
        r["Properties"]
        for r in synthesized().resources("AWS::Events::Rule").values()
        if any(json.dumps(t["Arn"]).count(target_logical_id) for t in r["Properties"]["Targets"])
    ]
    assert len(rules) == 1
    return rules[0]


def test_the_object_created_rule_is_the_contracts_pattern_and_starts_the_state_machine():
    synth = synthesized()
    machine_id = synth.logical_id(synth.stack.workflow.state_machine)
    rule = rule_for(machine_id)
    raw = synth.ref(synth.stack.buckets.raw)
    assert rule["EventPattern"] == object_created_rule_pattern(raw)  # type: ignore[arg-type]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": machine_id}
    assert "Input" not in target and "InputPath" not in target  # the event itself is the input
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 24 * 3600
    # The rule's role may start exactly this state machine.
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    (policy,) = [
        p["Properties"]["PolicyDocument"]
        for p in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    assert policy["Statement"] == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    ]


def test_the_state_machine_is_standard_logs_everything_and_traces():
    synth = synthesized()
    props = state_machine()
    assert props["StateMachineType"] == "STANDARD"
    assert props["StateMachineName"] == load_settings().state_machine_name
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = synth.resources("AWS::Logs::LogGroup")[group_id]["Properties"]
    assert group["RetentionInDays"] == load_settings().log_retention_days
    assert props["TracingConfiguration"] == {"Enabled": True}


def test_the_definition_is_the_asl_file_with_every_placeholder_substituted():
    synth = synthesized()
    props = state_machine()
    text = STATE_MACHINE_FILE.read_text()
    assert props["DefinitionString"] == text  # the very file the local runtime executes
    placeholders = set(PLACEHOLDER.findall(text))
    substitutions = props["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders
    stack = synth.stack
    assert substitutions["ValidateFunctionArn"] == {
        "Fn::GetAtt": [synth.logical_id(stack.workflow.validate.function), "Arn"]
    }
    assert substitutions["TransformJobName"] == synth.only("AWS::Glue::Job")["Name"]
    assert substitutions["CuratedBucket"] == synth.ref(stack.buckets.curated)
    assert substitutions["AthenaWorkGroup"] == synth.only("AWS::Athena::WorkGroup")["Name"]
    assert substitutions["Database"] == load_settings().database


def test_the_definition_runs_validate_then_glue_and_athena_synchronously():
    states = json.loads(state_machine()["DefinitionString"])["States"]
    inner = states["RegisterPartitions"]["ItemProcessor"]["States"]  # one statement at a time
    resources = [state.get("Resource") for state in (*states.values(), *inner.values())]
    assert "arn:aws:states:::lambda:invoke" in resources
    assert "arn:aws:states:::glue:startJobRun.sync" in resources
    assert "arn:aws:states:::athena:startQueryExecution.sync" in resources


def test_the_validate_lambda_runs_the_handler_with_powertools_and_tracing():
    synth = synthesized()
    fn = synth.resources("AWS::Lambda::Function")[
        synth.logical_id(synth.stack.workflow.validate.function)
    ]["Properties"]
    assert fn["Handler"] == "functions.validate.handler"
    assert fn["FunctionName"] == load_settings().validate_function_name
    assert fn["Runtime"] == "python3.11"
    assert fn["TracingConfig"] == {"Mode": "Active"}
    assert fn["ReservedConcurrentExecutions"] == load_settings().validate_reserved_concurrency
    (layer,) = fn["Layers"]
    parameter = synth.json["Parameters"][layer["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    # The layer is the Powertools release the tests run against.
    from aws_lambda_powertools.shared.version import VERSION

    assert parameter["Default"] == f"/aws/service/powertools/python/x86_64/python3.11/{VERSION}"
    folder = synth.asset_folder(fn["Code"]["S3Key"])
    assert {p.name for p in folder.iterdir()} == {"functions", "contract"}
    assert (folder / "functions" / "validate.py").is_file()
    assert (folder / "functions" / "object_head.py").is_file()  # what validate imports


def test_the_validate_role_reads_raw_exports_only():
    synth = synthesized()
    statements = synth.policy_statements(synth.stack.workflow.validate.role)
    s3_actions = {a for s in statements for a in as_list(s["Action"]) if a.startswith("s3:")}
    assert s3_actions == {"s3:GetObject", "s3:ListBucket"}


def state_machine_statements() -> list[dict]:
    synth = synthesized()
    return synth.policy_statements(synth.stack.workflow.state_machine.role)


def granted(action: str) -> list:
    """Every resource the state machine role is granted `action` on."""
    return [
        resource
        for s in state_machine_statements()
        if action in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    ]


def test_the_state_machine_may_invoke_only_the_validate_function():
    synth = synthesized()
    arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.workflow.validate.function), "Arn"]}
    assert granted("lambda:InvokeFunction") == [arn]


def test_the_state_machine_may_run_and_poll_only_the_transform_job():
    for action in ("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"):
        (resource,) = granted(action)
        assert json.dumps(resource).endswith(f':job/{load_settings().transform_job_name}"]]}}')


def test_the_state_machine_may_query_only_in_its_workgroup():
    for action in (
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:StopQueryExecution",
    ):
        (resource,) = granted(action)
        assert json.dumps(resource).endswith(f':workgroup/{load_settings().athena_workgroup}"]]}}')


def test_partition_registration_is_limited_to_the_travel_times_table():
    settings = load_settings()
    resources = [json.dumps(r) for r in granted("glue:BatchCreatePartition")]
    assert len(resources) == 3
    assert any(r.endswith(':catalog"]]}') for r in resources)
    assert any(r.endswith(f':database/{settings.database}"]]}}') for r in resources)
    assert any(r.endswith(f':table/{settings.database}/{settings.table}"]]}}') for r in resources)
    assert not granted("glue:DeleteTable") and not granted("glue:DeletePartition")


def test_the_state_machine_reads_manifests_and_writes_only_athena_results():
    synth = synthesized()
    curated = synth.logical_id(synth.stack.buckets.curated)
    results = synth.logical_id(synth.stack.buckets.athena_results)
    reads = [json.dumps(r) for r in granted("s3:GetObject")]
    assert any(curated in r and "/manifests/*" in r for r in reads)
    writes = [json.dumps(r) for r in granted("s3:PutObject")]
    assert writes and all(results in r and "/athena/*" in r for r in writes)


def test_no_state_machine_statement_grants_resource_star_except_logs_delivery_and_xray():
    for statement in state_machine_statements():
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= LOG_DELIVERY_ACTIONS | XRAY_ACTIONS
        assert not any(a.endswith(":*") for a in as_list(statement["Action"]))
