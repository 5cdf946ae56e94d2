"""The ASL file checked offline, for what cfn-lint's schema check does not see: every Task
resource is a supported integration, every Retry names well-formed errors of its own service and
never retries a rejected file, every `.$` value is a valid JSONPath or intrinsic function, every
Next exists and every state is reachable."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from infra_support import PLACEHOLDER, synthesized

from contract.errors import FILE_FAULTS as REJECTION_NAMES
from settings import STATE_MACHINE_FILE

DEFINITION: dict[str, Any] = json.loads(STATE_MACHINE_FILE.read_text())
STATES: dict[str, dict[str, Any]] = DEFINITION["States"]

SUPPORTED_INTEGRATIONS = {
    "arn:aws:states:::lambda:invoke": "Lambda",
    "arn:aws:states:::glue:startJobRun.sync": "Glue",
    "arn:aws:states:::athena:startQueryExecution.sync": "Athena",
    "arn:aws:states:::aws-sdk:s3:getObject": "S3",
}
STATES_ERRORS = {
    "States.ALL",
    "States.HeartbeatTimeout",
    "States.Timeout",
    "States.TaskFailed",
    "States.Permissions",
    "States.ResultPathMatchFailure",
    "States.ParameterPathFailure",
    "States.QueryEvaluationError",
    "States.BranchFailed",
    "States.NoChoiceMatched",
    "States.IntrinsicFailure",
    "States.ExceedToleratedFailureThreshold",
    "States.ItemReaderFailed",
    "States.ResultWriterFailed",
}
INTRINSICS = {
    "Format",
    "StringToJson",
    "JsonToString",
    "Array",
    "ArrayPartition",
    "ArrayContains",
    "ArrayRange",
    "ArrayGetItem",
    "ArrayLength",
    "ArrayUnique",
    "Base64Encode",
    "Base64Decode",
    "Hash",
    "JsonMerge",
    "MathRandom",
    "MathAdd",
    "StringSplit",
    "UUID",
}
KNOWN_PLACEHOLDERS = {
    "ValidateFunctionArn",
    "TransformJobName",
    "CuratedBucket",
    "AthenaWorkGroup",
    "Database",
}
SERVICE_ERROR = re.compile(r"^[A-Z][A-Za-z0-9]*\.[A-Z][A-Za-z0-9]*$")
_SEGMENT = r"(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[0-9]+\]|\['[^']+'\])"
JSON_PATH = re.compile(rf"^\$\$?{_SEGMENT}*$")
REFERENCE_PATH = re.compile(rf"^\${_SEGMENT}*$")  # ResultPath: no context object, no filters
INTRINSIC = re.compile(r"^States\.([A-Za-z0-9]+)\((.*)\)$", re.S)


def split_arguments(text: str) -> list[str]:
    """Top-level comma-separated arguments of an intrinsic call ('...' strings kept whole)."""
    arguments, depth, quoted, current = [], 0, False, ""
    for index, ch in enumerate(text):
        escaped = index > 0 and text[index - 1] == "\\"
        if ch == "'" and not escaped:
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            arguments.append(current.strip())
            current = ""
        else:
            current += ch
    assert not quoted and depth == 0, f"unbalanced intrinsic arguments: {text!r}"
    return [*arguments, current.strip()] if current.strip() else arguments


def check_dynamic_value(value: str) -> None:
    """A `.$` value: a JSONPath, or an intrinsic function whose arguments are valid too."""
    if value.startswith("$"):
        assert JSON_PATH.match(value), f"not a valid JSONPath: {value!r}"
        return
    call = INTRINSIC.match(value)
    assert call, f"neither a JSONPath nor an intrinsic function: {value!r}"
    name, raw_arguments = call.groups()
    assert name in INTRINSICS, f"unknown intrinsic States.{name}"
    arguments = split_arguments(raw_arguments)
    for argument in arguments:
        if argument.startswith("'"):
            assert argument.endswith("'"), f"unterminated string in {value!r}"
        elif argument.startswith("States."):
            check_dynamic_value(argument)
        elif argument.startswith("$"):
            assert JSON_PATH.match(argument), f"bad path {argument!r} in {value!r}"
        else:
            float(argument)  # a number literal
    if name == "Format":
        template = arguments[0].strip("'")
        assert template.count("{}") == len(arguments) - 1, f"placeholder count in {value!r}"


def payload_templates(state: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every key/value inside Parameters and ResultSelector, recursively."""

    def walk(node: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield key, value
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for field in ("Parameters", "ResultSelector"):
        yield from walk(state.get(field, {}))


def test_the_definition_is_jsonpath_and_starts_at_an_existing_state():
    assert DEFINITION["QueryLanguage"] == "JSONPath"
    assert DEFINITION["StartAt"] in STATES


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_task_uses_a_supported_integration(name):
    state = STATES[name]
    if state["Type"] == "Task":
        assert state["Resource"] in SUPPORTED_INTEGRATIONS


def test_the_three_steps_are_validate_glue_sync_and_athena_sync():
    resources = [s.get("Resource") for s in STATES.values()]
    assert resources.count("arn:aws:states:::lambda:invoke") == 1
    assert resources.count("arn:aws:states:::glue:startJobRun.sync") == 1
    assert resources.count("arn:aws:states:::athena:startQueryExecution.sync") == 1


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_next_exists_and_every_non_terminal_state_has_one(name):
    state = STATES[name]
    targets = [state.get("Next"), *(c["Next"] for c in state.get("Catch", []))]
    for target in filter(None, targets):
        assert target in STATES, f"{name} -> {target}: no such state"
    if state["Type"] not in ("Succeed", "Fail", "Choice"):
        assert ("Next" in state) != bool(state.get("End")), f"{name}: exactly one of Next/End"


def test_every_state_is_reachable_from_start():
    seen, todo = set(), [DEFINITION["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = STATES[name]
        todo += [t for t in [state.get("Next"), *(c["Next"] for c in state.get("Catch", []))] if t]
        todo += [c["Next"] for c in state.get("Choices", [])] + [state.get("Default")] * (
            "Default" in state
        )
    assert seen == set(STATES)


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_retry_names_well_formed_errors_of_its_own_service(name):
    state = STATES[name]
    service = SUPPORTED_INTEGRATIONS.get(state.get("Resource", ""))
    for index, retrier in enumerate(state.get("Retry", [])):
        errors = retrier["ErrorEquals"]
        assert errors, f"{name}: empty ErrorEquals"
        for error in errors:
            if error.startswith("States."):
                assert error in STATES_ERRORS, f"{name}: unknown {error}"
            else:
                assert SERVICE_ERROR.match(error), f"{name}: malformed error name {error!r}"
                assert error.split(".")[0] == service, f"{name}: {error} is not a {service} error"
        if "States.ALL" in errors:
            assert errors == ["States.ALL"] and index == len(state["Retry"]) - 1
        assert retrier.get("IntervalSeconds", 1) >= 1
        assert retrier.get("MaxAttempts", 3) >= 0
        assert retrier.get("BackoffRate", 2.0) >= 1
        assert retrier.get("JitterStrategy", "NONE") in {"FULL", "NONE"}


def test_no_retry_can_repeat_a_rejected_file():
    for name, state in STATES.items():
        for retrier in state.get("Retry", []):
            assert not set(retrier["ErrorEquals"]) & REJECTION_NAMES, name
            if state.get("Resource") == "arn:aws:states:::lambda:invoke":
                # States.ALL / TaskFailed would also match the validator's named rejections.
                assert not {"States.ALL", "States.TaskFailed"} & set(retrier["ErrorEquals"])


@pytest.mark.parametrize("name", sorted(STATES))
def test_every_path_and_dynamic_value_is_valid(name):
    state = STATES[name]
    for field in ("InputPath", "OutputPath"):
        if state.get(field) is not None:
            assert JSON_PATH.match(state[field]), f"{name}.{field}"
    if state.get("ResultPath") is not None:
        assert REFERENCE_PATH.match(state["ResultPath"]), f"{name}.ResultPath"
    for key, value in payload_templates(state):
        if key.endswith(".$"):
            assert isinstance(value, str), f"{name}: {key} must be a string"
            check_dynamic_value(value)
        elif isinstance(value, str):
            assert not JSON_PATH.match(value), f"{name}: {key} holds a path but lacks '.$'"


def test_the_checker_rejects_what_it_should():
    for bad in ("$.a..b", "States.Frmat('{}', $.a)", "States.Format('{} {}', $.a)", "a.b"):
        with pytest.raises((AssertionError, ValueError)):
            check_dynamic_value(bad)
    check_dynamic_value("States.Format('s3://b/manifests/{}.json', $$.Execution.Name)")


def test_the_transform_passes_the_per_run_arguments_the_glue_job_reads():
    arguments = STATES["Transform"]["Parameters"]["Arguments"]
    assert {"--source_path.$", "--source_key.$", "--manifest_path.$"} <= set(arguments)


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
