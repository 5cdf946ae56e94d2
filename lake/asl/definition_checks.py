"""What a definition must be, checked when it loads. Two jobs: catch what Step Functions' own
validator would reject (missing ``Next`` targets, unreachable states, ``States.ALL`` not alone
and last, ...), and refuse everything this interpreter does not implement (JSONata, variables,
activities, ...) so that nothing is ever silently ignored. Each refusal is an
UnsupportedDefinition naming the state and the field."""

from __future__ import annotations

from typing import Any

from lake.asl.choice import check_rule, parse_timestamp
from lake.asl.errors import UnsupportedDefinition
from lake.asl.intrinsics import STRING_FUNCTIONS, is_intrinsic, parse_intrinsic
from lake.asl.map_definition import MAP_FIELDS, check_map
from lake.asl.paths import parse_path, parse_reference_path
from lake.asl.payload import check_template
from lake.asl.retry import CATCHER_FIELDS, check_error_equals, check_retrier
from lake.asl.service_catalog import check_task_resource

_TOP_FIELDS = frozenset(
    {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
)
_COMMON = frozenset({"Type", "Comment", "QueryLanguage"})
_FLOW = frozenset({"Next", "End"})
_IO = frozenset({"InputPath", "OutputPath"})
STATE_FIELDS: dict[str, frozenset[str]] = {
    "Task": _COMMON
    | _FLOW
    | _IO
    | {
        "Resource",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "Retry",
        "Catch",
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
    },
    "Pass": _COMMON | _FLOW | _IO | {"Result", "ResultPath", "Parameters"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _FLOW | _IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON
    | _FLOW
    | _IO
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"},
    "Map": _COMMON | _FLOW | _IO | MAP_FIELDS,
}
_MAX_SECONDS = 99_999_999


def validate(raw: Any) -> None:
    """Check a parsed definition; raise UnsupportedDefinition naming the state and field."""
    if not isinstance(raw, dict):
        raise UnsupportedDefinition("a definition must be a JSON object")
    for key in raw:
        if key not in _TOP_FIELDS:
            raise UnsupportedDefinition(
                f"top-level field '{key}' is not supported by the local runtime"
            )
    _check_query_language(raw, "the definition")
    if "TimeoutSeconds" in raw:
        try:
            _check_seconds(raw["TimeoutSeconds"], "field 'TimeoutSeconds'", low=1)
        except ValueError as error:
            raise UnsupportedDefinition(f"the definition: {error}") from error
    check_machine(raw)


def check_machine(raw: Any, where: str = "") -> None:
    """Validate the StartAt and States of a definition, a Parallel branch or an item processor;
    raise UnsupportedDefinition naming the state (``where`` prefixes nested ones)."""
    states = raw.get("States") if isinstance(raw, dict) else None
    if not isinstance(states, dict) or not states:
        raise UnsupportedDefinition(f"{where}'States' must be a non-empty object")
    if raw.get("StartAt") not in states:
        raise UnsupportedDefinition(f"{where}'StartAt' names no state: {raw.get('StartAt')!r}")
    for name, state in states.items():
        try:
            _check_state(name, state, states)
        except ValueError as error:
            raise UnsupportedDefinition(f"{where}state '{name}': {error}") from error
    _check_reachable(raw["StartAt"], states, where)


def _check_query_language(raw: dict, where: str) -> None:
    language = raw.get("QueryLanguage", "JSONPath")
    if language != "JSONPath":
        raise UnsupportedDefinition(
            f"{where}: QueryLanguage '{language}' is not supported by the local runtime "
            "(only JSONPath): Step Functions' JSONata mode (Arguments, Output, Assign, $states, "
            "its own functions) is not implemented; see lake/asl/README.md"
        )


def _check_state(name: str, state: Any, states: dict) -> None:
    if not isinstance(state, dict):
        raise ValueError("a state must be an object")
    kind = state.get("Type")
    if kind not in STATE_FIELDS:
        raise ValueError(f"type '{kind}' is not supported by the local runtime")
    _check_query_language(state, f"state '{name}'")
    for key in state:
        if key not in STATE_FIELDS[kind]:
            raise ValueError(f"field '{key}' ({kind}) is not supported by the local runtime")
    if kind in ("Task", "Pass", "Wait", "Parallel", "Map"):
        _check_transition(state, states)
    for key in ("InputPath", "OutputPath"):
        if state.get(key) is not None:
            _field(key, parse_path, state[key])
    if "ResultPath" in state and state["ResultPath"] is not None:
        _field("ResultPath", parse_reference_path, state["ResultPath"])
    {
        "Task": _check_task,
        "Pass": _check_pass,
        "Choice": _check_choice,
        "Wait": _check_wait,
        "Fail": _check_fail,
        "Succeed": lambda state, states: None,
        "Parallel": _check_parallel,
        "Map": lambda state, states: check_map(state, _check_recovery, _nested(name), states),
    }[kind](state, states)


def _nested(name: str) -> Any:
    def check(machine: Any, label: str) -> None:
        check_machine(machine, f"state '{name}': {label}: ")

    return check


def _check_parallel(state: dict, states: dict) -> None:
    branches = state.get("Branches")
    if not isinstance(branches, list) or not branches:
        raise ValueError("field 'Branches' must be a non-empty array")
    for key in ("Parameters", "ResultSelector"):
        if key in state:
            check_template(state[key], f"field '{key}'")
    _check_recovery(state, states)
    for index, branch in enumerate(branches):
        if not isinstance(branch, dict):
            raise ValueError(f"Branches[{index}] must be an object")
        unknown = set(branch) - {"StartAt", "States", "Comment", "ProcessorConfig"}
        if unknown:
            raise ValueError(f"Branches[{index}]: field '{sorted(unknown)[0]}' is not supported")
        try:
            check_machine(branch, f"Branches[{index}]: ")
        except UnsupportedDefinition as error:
            raise ValueError(str(error)) from error


def _field(key: str, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ValueError as error:
        raise ValueError(f"field '{key}': {error}") from error


def _check_transition(state: dict, states: dict) -> None:
    has_next, ends = "Next" in state, state.get("End") is True
    if has_next == ends:
        raise ValueError("needs exactly one of 'Next' and 'End: true'")
    if "End" in state and state["End"] is not True:
        raise ValueError("field 'End' must be true when present")
    if has_next and state["Next"] not in states:
        raise ValueError(f"field 'Next' names no state: {state['Next']!r}")


def split_resource(arn: str) -> tuple[str, str]:
    """(resourceType, resource) as history events show a service integration ARN.

    ``arn:aws:states:::glue:startJobRun.sync`` -> ``("glue", "startJobRun.sync")``;
    ``arn:aws:states:::aws-sdk:s3:getObject`` -> ``("aws-sdk:s3", "getObject")``.
    Raises ValueError for anything that is not a Step Functions service integration.
    """
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "states":
        raise ValueError(
            f"Resource {arn!r} is not supported by the local runtime (only service "
            "integrations 'arn:aws:states:::service:action' are)"
        )
    rest = parts[5]
    if rest.startswith("aws-sdk:"):
        service, _, action = rest[len("aws-sdk:") :].partition(":")
        resource_type, resource = f"aws-sdk:{service}", action
    else:
        resource_type, _, resource = rest.partition(":")
    if not resource_type or not resource:
        raise ValueError(f"Resource {arn!r} is not a service integration ARN")
    if resource_type == "activity":
        raise ValueError(f"Resource {arn!r}: activities are not supported by the local runtime")
    return resource_type, resource


def _check_task(state: dict, states: dict) -> None:
    resource_type, resource = _field("Resource", split_resource, state.get("Resource"))
    _field("Resource", lambda _: check_task_resource(resource_type, resource), state["Resource"])
    for key in ("Parameters", "ResultSelector"):
        if key in state:
            if not isinstance(state[key], dict):
                raise ValueError(f"field '{key}' must be an object")
            check_template(state[key], f"field '{key}'")
    for key in ("TimeoutSeconds", "HeartbeatSeconds"):
        if key in state and f"{key}Path" in state:
            raise ValueError(f"fields '{key}' and '{key}Path' exclude each other")
        if key in state:
            _check_seconds(state[key], f"field '{key}'", low=1)
        if f"{key}Path" in state:
            _field(f"{key}Path", parse_reference_path, state[f"{key}Path"])
    beat, limit = state.get("HeartbeatSeconds"), state.get("TimeoutSeconds")
    if beat is not None and limit is not None and beat >= limit:
        raise ValueError("'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'")
    _check_recovery(state, states)


def _check_recovery(state: dict, states: dict) -> None:
    retriers = state.get("Retry", [])
    if not isinstance(retriers, list):
        raise ValueError("field 'Retry' must be an array")
    for index, retrier in enumerate(retriers):
        check_retrier(retrier, f"Retry[{index}]", last=index == len(retriers) - 1)
    catchers = state.get("Catch", [])
    if not isinstance(catchers, list):
        raise ValueError("field 'Catch' must be an array")
    for index, catcher in enumerate(catchers):
        where = f"Catch[{index}]"
        if not isinstance(catcher, dict):
            raise ValueError(f"{where}: a catcher must be an object")
        for key in catcher:
            if key not in CATCHER_FIELDS:
                raise ValueError(f"{where}: field '{key}' is not supported by the local runtime")
        check_error_equals(catcher.get("ErrorEquals"), where, last=index == len(catchers) - 1)
        if catcher.get("Next") not in states:
            raise ValueError(f"{where}: 'Next' names no state: {catcher.get('Next')!r}")
        if catcher.get("ResultPath") is not None:
            _field(f"{where}.ResultPath", parse_reference_path, catcher["ResultPath"])


def _check_pass(state: dict, states: dict) -> None:
    if "Parameters" in state:
        check_template(state["Parameters"], "field 'Parameters'")


def _check_choice(state: dict, states: dict) -> None:
    choices = state.get("Choices")
    if not isinstance(choices, list) or not choices:
        raise ValueError("field 'Choices' must be a non-empty array")
    for index, rule in enumerate(choices):
        check_rule(rule, f"Choices[{index}]", top=True)
        if rule["Next"] not in states:
            raise ValueError(f"Choices[{index}]: 'Next' names no state: {rule['Next']!r}")
    if "Default" in state and state["Default"] not in states:
        raise ValueError(f"field 'Default' names no state: {state['Default']!r}")


def _check_wait(state: dict, states: dict) -> None:
    given = [
        key for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if key in state
    ]
    if len(given) != 1:
        raise ValueError("needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath")
    key = given[0]
    if key == "Seconds":
        _check_seconds(state[key], "field 'Seconds'", low=0)
    elif key == "Timestamp" and parse_timestamp(state[key]) is None:
        raise ValueError(f"field 'Timestamp' must be an RFC 3339 timestamp, got {state[key]!r}")
    elif key.endswith("Path"):
        _field(key, parse_path, state[key])


def _check_fail(state: dict, states: dict) -> None:
    for name in ("Error", "Cause"):
        if name in state and f"{name}Path" in state:
            raise ValueError(f"fields '{name}' and '{name}Path' exclude each other")
        if name in state and not isinstance(state[name], str):
            raise ValueError(f"field '{name}' must be a string")
        if f"{name}Path" in state:
            _field(f"{name}Path", _string_expression, state[f"{name}Path"])


def _string_expression(text: Any) -> Any:
    # AWS accepts a reference path or one of the intrinsics that return a string.
    if is_intrinsic(text):
        call = parse_intrinsic(text)
        if call.name not in STRING_FUNCTIONS:
            raise ValueError(f"{call.name} does not return a string")
        return call
    return parse_path(text)


def _check_seconds(value: Any, where: str, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= _MAX_SECONDS:
        raise ValueError(f"{where} must be an integer from {low} to {_MAX_SECONDS}, got {value!r}")


def _check_reachable(start: str, states: dict, where: str = "") -> None:
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [rule.get("Next") for rule in state.get("Choices", [])]
        targets += [catcher.get("Next") for catcher in state.get("Catch", [])]
        todo += [target for target in targets if target]
    unreachable = [name for name in states if name not in seen]
    if unreachable:
        raise UnsupportedDefinition(
            f"{where}state '{unreachable[0]}' is not reachable from StartAt '{start}'"
        )
    if not any(s.get("End") is True or s["Type"] in ("Succeed", "Fail") for s in states.values()):
        raise UnsupportedDefinition(f"{where}the definition has no terminal state")
