"""Payload templates: the ``Parameters`` and ``ResultSelector`` fields.

A field whose name ends in ``.$`` takes its value from a path into the state's data, a path into
the context object (``$$...``) or an intrinsic function; the ``.$`` is dropped from the name.
Every other field is copied as it is, and nested objects (also inside arrays) are templates too.
"""

from __future__ import annotations

import copy
import random
from functools import lru_cache
from typing import Any

from lake.asl.errors import STATES_RUNTIME, StatesError
from lake.asl.history import to_json
from lake.asl.intrinsics import Call, evaluate, is_intrinsic, parse_intrinsic
from lake.asl.paths import Path, PathNotFound, parse_path


@lru_cache(maxsize=4096)
def _expression(text: str) -> Path | Call:
    return parse_intrinsic(text) if is_intrinsic(text) else parse_path(text)


def expression(text: Any) -> Path | Call:
    """Parse the value of a ``.$`` field: a path, a context path or an intrinsic call.

    Raises ValueError saying why the value is not one of those.
    """
    if not isinstance(text, str):
        raise ValueError(f"the value must be a string holding a path or an intrinsic, got {text!r}")
    if not (text.startswith("$") or is_intrinsic(text)):
        raise ValueError(f"'{text}' is neither a JSONPath nor an intrinsic function")
    return _expression(text)


def check_template(template: Any, where: str) -> None:
    """Validate every ``.$`` field of a template; raise ValueError naming the field."""
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                try:
                    expression(value)
                except ValueError as error:
                    raise ValueError(f"{where}: field '{key}': {error}") from error
            else:
                check_template(value, f"{where}.{key}")
    elif isinstance(template, list):
        for index, item in enumerate(template):
            check_template(item, f"{where}[{index}]")


def evaluate_expression(
    expr: Path | Call, data: Any, context: dict, rng: random.Random, field: str
) -> Any:
    """The value of a path or intrinsic; a path that selects nothing is States.Runtime."""
    if isinstance(expr, Call):
        return evaluate(expr, data, context, rng)
    source = context if expr.context else data
    try:
        value = expr.read(source)
        # A copy: "x.$": "$$" must not hand out the live context object, which later states
        # change (a later state's name would show in an earlier state's output).
        return copy.deepcopy(value) if expr.context else value
    except PathNotFound as error:
        shown = to_json(source)
        raise StatesError(
            STATES_RUNTIME,
            f"The JSONPath '{expr.text}' specified for the field '{field}' could not be found "
            f"in the input '{shown}'",
        ) from error


def render(template: Any, data: Any, context: dict, rng: random.Random) -> Any:
    """The JSON value a template produces for this data and context object."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = evaluate_expression(expression(value), data, context, rng, key)
            else:
                out[key] = render(value, data, context, rng)
        return out
    if isinstance(template, list):
        return [render(item, data, context, rng) for item in template]
    return template
