"""EventBridge event patterns, matched as EventBridge matches them.

A pattern is an object whose leaves are arrays of alternatives; an event matches when every
field of the pattern is matched by the event (nested objects recurse; an array in the event
matches when any of its elements does). Alternatives are exact values or one-key operator
objects. Supported: exact values, `prefix`, `suffix`, `wildcard`, `equals-ignore-case`,
`anything-but`, `exists` and `numeric`. Anything else (`cidr`, `$or`, ...) is refused when the
pattern is checked, never silently treated as "no match"."""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

_MISSING = object()
_OPERATORS = {
    "prefix",
    "suffix",
    "wildcard",
    "equals-ignore-case",
    "anything-but",
    "exists",
    "numeric",
}
_NUMERIC = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


class UnsupportedPattern(ValueError):
    """The pattern uses something this matcher does not implement, or is not a valid pattern."""


def check_pattern(pattern: Mapping[str, Any], path: str = "") -> None:
    """Raise UnsupportedPattern unless every part of the pattern is understood."""
    if not isinstance(pattern, Mapping) or not pattern:
        raise UnsupportedPattern(f"pattern{path or ''} must be a non-empty object")
    for field, spec in pattern.items():
        where = f"{path}.{field}" if path else field
        if field.startswith("$"):
            raise UnsupportedPattern(f"{where}: the {field!r} combinator is not supported")
        if isinstance(spec, Mapping):
            check_pattern(spec, where)
        elif isinstance(spec, list):
            for alternative in spec:
                if isinstance(alternative, Mapping):
                    _check_operator(alternative, where)
                elif isinstance(alternative, list):
                    raise UnsupportedPattern(f"{where}: nested arrays are not valid in a pattern")
        else:
            raise UnsupportedPattern(f"{where}: a pattern's values must be arrays or objects")


def _check_operator(alternative: Mapping[str, Any], where: str) -> None:
    if len(alternative) != 1:
        raise UnsupportedPattern(f"{where}: an operator object must have exactly one key")
    ((name, argument),) = alternative.items()
    if name not in _OPERATORS:
        raise UnsupportedPattern(
            f"{where}: the {name!r} operator is not supported "
            f"(supported: exact values, {', '.join(sorted(_OPERATORS))})"
        )
    if name in {"prefix", "suffix", "wildcard", "equals-ignore-case"} and not isinstance(
        argument, str
    ):
        raise UnsupportedPattern(f"{where}: {name!r} takes a string")
    if name == "exists" and not isinstance(argument, bool):
        raise UnsupportedPattern(f"{where}: 'exists' takes true or false")
    if name == "anything-but" and isinstance(argument, Mapping):
        raise UnsupportedPattern(f"{where}: 'anything-but' with an operator is not supported")
    if name == "numeric":
        if not isinstance(argument, list) or len(argument) not in (2, 4):
            raise UnsupportedPattern(f"{where}: 'numeric' takes [op, n] or [op, n, op, n]")
        for op in argument[::2]:
            if op not in _NUMERIC:
                raise UnsupportedPattern(f"{where}: unknown numeric comparison {op!r}")


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True when `event` matches `pattern`. The pattern is checked first (UnsupportedPattern)."""
    check_pattern(pattern)
    return _match_object(pattern, event)


def _match_object(pattern: Mapping[str, Any], event: Any) -> bool:
    for field, spec in pattern.items():
        value = event.get(field, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(spec, Mapping):
            if value is _MISSING:
                return False
            candidates = value if isinstance(value, list) else [value]
            if not any(_match_object(spec, c) for c in candidates):
                return False
        elif not _match_leaf(spec, value):
            return False
    return True


def _match_leaf(alternatives: list[Any], value: Any) -> bool:
    for alternative in alternatives:
        if isinstance(alternative, Mapping) and "exists" in alternative:
            present = value is not _MISSING
            if present == alternative["exists"]:
                return True
            continue
        if value is _MISSING:
            continue
        values = value if isinstance(value, list) else [value]
        if any(_match_value(alternative, v) for v in values):
            return True
    return False


def _match_value(alternative: Any, value: Any) -> bool:
    if not isinstance(alternative, Mapping):
        # Exact match; EventBridge compares numbers numerically and never equates 1 with "1".
        if isinstance(alternative, bool) or isinstance(value, bool) or None in (alternative, value):
            return alternative is value
        if isinstance(alternative, str) or isinstance(value, str):
            return isinstance(alternative, str) and isinstance(value, str) and alternative == value
        return alternative == value
    ((name, argument),) = alternative.items()
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=True)
        return all(_NUMERIC[op](value, bound) for op, bound in pairs)
    if name == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_match_value(e, value) for e in excluded)
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return value.startswith(argument)
    if name == "suffix":
        return value.endswith(argument)
    if name == "equals-ignore-case":
        return value.casefold() == argument.casefold()
    return bool(_wildcard_regex(argument).fullmatch(value))


@lru_cache(maxsize=256)
def _wildcard_regex(wildcard: str) -> re.Pattern[str]:
    """`*` matches any run of characters; `\\*` is a literal star and `\\\\` a backslash."""
    parts: list[str] = []
    i = 0
    while i < len(wildcard):
        char = wildcard[i]
        if char == "\\" and i + 1 < len(wildcard) and wildcard[i + 1] in "*\\":
            parts.append(re.escape(wildcard[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)
