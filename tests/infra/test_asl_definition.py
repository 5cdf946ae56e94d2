"""The ASL file checked offline, for what cfn-lint's schema check does not see. The definition is
loaded by the interpreter's own loader (`lake.asl.load_definition`), which refuses what Step
Functions refuses (a path or intrinsic that does not parse, a `Next` naming no state, a state
no one reaches, malformed Retry/Catch); on top of that, what this workflow promises: every Task
calls an integration both runtimes play, retries name errors of their own service and never
retry a rejected file, the Transform passes the per-run arguments the job reads, and the
placeholders are exactly those the stack substitutes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from infra_support import PLACEHOLDER, synthesized

from contract.errors import FILE_FAULTS
from lake.asl import UnsupportedDefinition, load_definition
from lake.asl.definition import parse_definition, substitute
from settings import STATE_MACHINE_FILE

KNOWN_PLACEHOLDERS = {
    "ValidateFunctionArn",
    "TransformJobName",
    "CuratedBucket",
    "AthenaWorkGroup",
    "Database",
}
DEFINITION = load_definition(STATE_MACHINE_FILE, {name: "x" for name in KNOWN_PLACEHOLDERS})
SUPPORTED_INTEGRATIONS = {
    "arn:aws:states:::lambda:invoke": "Lambda",
    "arn:aws:states:::glue:startJobRun.sync": "Glue",
    "arn:aws:states:::athena:startQueryExecution.sync": "Athena",
    "arn:aws:states:::aws-sdk:s3:getObject": "S3",
}
SERVICE_ERROR = re.compile(r"^[A-Z][A-Za-z0-9]*\.[A-Z][A-Za-z0-9]*$")


def all_states(states: dict[str, Any] = DEFINITION.states) -> Iterator[tuple[str, dict]]:
    """Every state, those inside a Map's ItemProcessor (or a Parallel's branches) included."""
    for name, state in states.items():
        yield name, state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from all_states(processor["States"])
        for branch in state.get("Branches", []):
            yield from all_states(branch["States"])


STATES = dict(all_states())


def test_the_definition_is_jsonpath_and_loads_as_step_functions_would():
    assert DEFINITION.raw["QueryLanguage"] == "JSONPath"
    assert DEFINITION.start_at == "Validate"


def test_the_loader_refuses_what_step_functions_refuses():
    for broken in (
        {"Parameters": {"Key.$": "$.a..b["}},
        {"Parameters": {"Key.$": "States.Frmat('{}', $.a)"}},
        {"Next": "Nowhere"},
    ):
        raw = json.loads(STATE_MACHINE_FILE.read_text())
        raw["States"]["ReadManifest"].update(broken)
        text = substitute(json.dumps(raw), {name: "x" for name in KNOWN_PLACEHOLDERS})
        with pytest.raises(UnsupportedDefinition):
            parse_definition(text, source="test")


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_task_uses_an_integration_both_runtimes_play(name):
    state = STATES[name]
    if state["Type"] == "Task":
        assert state["Resource"] in SUPPORTED_INTEGRATIONS


def test_the_steps_are_validate_glue_sync_and_athena_sync_per_statement():
    resources = [s.get("Resource") for s in STATES.values()]
    assert resources.count("arn:aws:states:::lambda:invoke") == 1
    assert resources.count("arn:aws:states:::glue:startJobRun.sync") == 1
    assert resources.count("arn:aws:states:::athena:startQueryExecution.sync") == 1
    # the statements are registered one at a time, whatever their number
    register = DEFINITION.states["RegisterPartitions"]
    assert register["Type"] == "Map" and register["MaxConcurrency"] == 1
    assert register["ItemsPath"] == "$.job.summary.register_statements"


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_retry_names_well_formed_errors_of_its_own_service(name):
    state = STATES[name]
    service = SUPPORTED_INTEGRATIONS.get(state.get("Resource", ""))
    for retrier in state.get("Retry", []):
        for error in retrier["ErrorEquals"]:
            if not error.startswith("States."):
                assert SERVICE_ERROR.match(error), f"{name}: malformed error name {error!r}"
                assert error.split(".")[0] == service, f"{name}: {error} is not a {service} error"


def test_no_retry_can_repeat_a_rejected_file():
    for name, state in STATES.items():
        for retrier in state.get("Retry", []):
            assert not set(retrier["ErrorEquals"]) & FILE_FAULTS, name
            if state.get("Resource") == "arn:aws:states:::lambda:invoke":
                # States.ALL / TaskFailed would also match the validator's named rejections.
                assert not {"States.ALL", "States.TaskFailed"} & set(retrier["ErrorEquals"])


def test_the_transform_passes_the_per_run_arguments_the_glue_job_reads():
    from glue.arguments import OPTIONAL, REQUIRED

    arguments = {
        name.removesuffix(".$").removeprefix("--")
        for name in STATES["Transform"]["Parameters"]["Arguments"]
    }
    assert {"source_path", "source_key", "manifest_path"} <= arguments
    assert arguments <= set(REQUIRED) | set(OPTIONAL)  # nothing the job would not read


def test_the_placeholders_are_exactly_those_the_stack_substitutes():
    assert set(PLACEHOLDER.findall(STATE_MACHINE_FILE.read_text())) == KNOWN_PLACEHOLDERS


@pytest.mark.infra
def test_cfn_lint_validates_the_definition_inside_the_template():
    # Break the definition's schema and cfn-lint must say so: the ASL is linted in place.
    synth = synthesized()
    resource = synth.json["Resources"][synth.logical_id(synth.stack.workflow.state_machine)]
    definition = json.loads(resource["Properties"]["DefinitionString"])
    definition["States"]["Transform"]["Type"] = "Tsk"
    properties = {
        **resource["Properties"],
        "DefinitionString": json.dumps(definition),
        "DefinitionSubstitutions": {name: "x" for name in KNOWN_PLACEHOLDERS},
        "RoleArn": "arn:aws:iam::123456789012:role/x",
    }
    properties.pop("LoggingConfiguration", None)
    broken = {"Resources": {"Broken": {"Type": resource["Type"], "Properties": properties}}}
    matches = lint(json.dumps(broken), config=ManualArgs(regions=["us-east-1"]))
    assert any(m.rule.id == "E3601" and "Tsk" in m.message for m in matches)
