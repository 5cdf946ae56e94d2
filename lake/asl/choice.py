"""Choice rules: validation at load time and evaluation against a state's input.

Semantics follow the Step Functions guide: a comparison whose two sides are not of the
operator's type is simply false (``StringEquals`` against a number does not match); a
``Variable`` (or a ``...Path`` operand) that selects nothing is a States.Runtime error, except
for ``IsPresent``, whose whole point is to test that.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lake.asl.errors import STATES_NO_CHOICE_MATCHED, STATES_RUNTIME, StatesError
from lake.asl.history import to_json
from lake.asl.paths import Path, parse_path, parse_reference_path

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_TYPED = ("String", "Numeric", "Timestamp")
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)

COMPARISONS = frozenset(
    [f"{kind}{name}" for kind in _TYPED for name in _ORDER]
    + [f"{kind}{name}Path" for kind in _TYPED for name in _ORDER]
    + ["BooleanEquals", "BooleanEqualsPath", "StringMatches", *_TYPE_TESTS]
)
_BOOLEAN_OPERATORS = frozenset({"And", "Or", "Not"})


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``2016-03-14T01:59:00Z``) as a datetime, or None if it is not one."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value)
    if not match:
        return None
    fraction = (match.group(2) or "")[:7]  # datetime takes at most microseconds
    zone = "+00:00" if match.group(3).upper() == "Z" else match.group(3)
    try:
        return datetime.fromisoformat(match.group(1) + fraction + zone)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_rule(rule: Any, where: str, top: bool) -> None:
    """Validate one Choice rule (recursively); raise ValueError naming the rule and field."""
    if not isinstance(rule, dict):
        raise ValueError(f"{where}: a choice rule must be an object")
    if top and "Next" not in rule:
        raise ValueError(f"{where}: a top-level choice rule needs 'Next'")
    if not top and "Next" in rule:
        raise ValueError(f"{where}: a nested choice rule cannot have 'Next'")
    operators = [key for key in rule if key in COMPARISONS or key in _BOOLEAN_OPERATORS]
    unknown = [key for key in rule if key not in {"Variable", "Next", "Comment", *operators}]
    if unknown:
        raise ValueError(
            f"{where}: field '{unknown[0]}' is not supported by the local runtime in a choice rule"
        )
    if len(operators) != 1:
        raise ValueError(f"{where}: a choice rule needs exactly one comparison operator")
    name = operators[0]
    operand = rule[name]
    if name in ("And", "Or"):
        if not isinstance(operand, list) or not operand:
            raise ValueError(f"{where}: '{name}' needs a non-empty array of rules")
        for index, nested in enumerate(operand):
            check_rule(nested, f"{where}.{name}[{index}]", top=False)
        return
    if name == "Not":
        check_rule(operand, f"{where}.Not", top=False)
        return
    if "Variable" not in rule:
        raise ValueError(f"{where}: '{name}' needs a 'Variable'")
    _check_path(rule["Variable"], f"{where}.Variable")
    if name.endswith("Path"):
        _check_path(operand, f"{where}.{name}")
    elif name.startswith("String") and not isinstance(operand, str):
        raise ValueError(f"{where}: '{name}' needs a string")
    elif name.startswith("Numeric") and not _is_number(operand):
        raise ValueError(f"{where}: '{name}' needs a number")
    elif name.startswith("Timestamp") and parse_timestamp(operand) is None:
        raise ValueError(f"{where}: '{name}' needs an RFC 3339 timestamp, got {operand!r}")
    elif (name == "BooleanEquals" or name in _TYPE_TESTS) and not isinstance(operand, bool):
        raise ValueError(f"{where}: '{name}' needs true or false")


def _check_path(text: Any, where: str) -> None:
    # A Choice rule's Variable (and ...Path operand) names one node: a reference path.
    try:
        parse_reference_path(text, allow_context=True)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from error


def choose(state: dict, effective: Any, context: dict) -> str:
    """The Next of the first matching Choice rule, else Default, else States.NoChoiceMatched."""
    for rule in state["Choices"]:
        if matches(rule, effective, context):
            return rule["Next"]
    if "Default" in state:
        return state["Default"]
    raise StatesError(
        STATES_NO_CHOICE_MATCHED,
        f"No Choice rule matched and there is no Default, for the input {to_json(effective)}",
    )


def matches(rule: dict, data: Any, context: dict) -> bool:
    """Whether a (validated) Choice rule matches the state's input ``data``."""
    if "And" in rule:
        return all(matches(nested, data, context) for nested in rule["And"])
    if "Or" in rule:
        return any(matches(nested, data, context) for nested in rule["Or"])
    if "Not" in rule:
        return not matches(rule["Not"], data, context)
    name = next(key for key in rule if key in COMPARISONS)
    variable = parse_path(rule["Variable"])
    if name == "IsPresent":
        return variable.exists(context if variable.context else data) == rule[name]
    value = _read(variable, data, context)
    operand = rule[name]
    if name.endswith("Path"):
        operand = _read(parse_path(operand), data, context)
        name = name[: -len("Path")]
    return _compare(name, value, operand)


def _read(path: Path, data: Any, context: dict) -> Any:
    source = context if path.context else data
    if not path.exists(source):
        raise StatesError(
            STATES_RUNTIME,
            f"Invalid path '{path.text}': The choice state's condition path references an "
            "undefined value.",
        )
    return path.read(source)


def _compare(name: str, value: Any, operand: Any) -> bool:
    if name in _TYPE_TESTS:
        kinds = {
            "IsNull": value is None,
            "IsNumeric": _is_number(value),
            "IsString": isinstance(value, str),
            "IsBoolean": isinstance(value, bool),
            "IsTimestamp": parse_timestamp(value) is not None,
        }
        return kinds[name] == operand
    if name == "BooleanEquals":
        return isinstance(value, bool) and isinstance(operand, bool) and value == operand
    if name == "StringMatches":
        return isinstance(value, str) and _wildcard(operand).fullmatch(value) is not None
    for kind in _TYPED:
        if name.startswith(kind):
            compare = _ORDER[name[len(kind) :]]
            if kind == "String":
                return (
                    isinstance(value, str) and isinstance(operand, str) and compare(value, operand)
                )
            if kind == "Numeric":
                return _is_number(value) and _is_number(operand) and compare(value, operand)
            left, right = parse_timestamp(value), parse_timestamp(operand)
            return left is not None and right is not None and compare(left, right)
    raise AssertionError(f"unhandled comparison {name}")  # check_rule admits no other name


def _wildcard(pattern: str) -> re.Pattern[str]:
    # '*' matches any run of characters; '\*' is a literal star and '\\' a literal backslash.
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.DOTALL)
