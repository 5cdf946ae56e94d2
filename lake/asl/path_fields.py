"""Fields a state gives either directly or through a ``<Field>Path`` reference path into its
input (TimeoutSeconds and HeartbeatSeconds of a Task, a Map's MaxConcurrency, MaxItems,
ToleratedFailureCount, ...): one reading, each caller bringing AWS's own rule for the value and
its own wording of the refusal (States.Runtime, which AWS never retries or catches)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lake.asl.errors import STATES_RUNTIME, StatesError
from lake.asl.history import to_json
from lake.asl.paths import PathNotFound, parse_path


def field_value(
    holder: dict,
    field: str,
    data: Any,
    context: dict,
    *,
    valid: Callable[[Any], bool],
    refusal: str,
) -> Any:
    """``holder[field]``; else the value ``holder[field + "Path"]`` selects in ``data`` (or the
    context object, for a ``$$`` path), which must be ``valid`` (else States.Runtime with
    ``refusal`` formatted with ``field`` and the value as JSON); else None."""
    if field in holder:
        return holder[field]
    if f"{field}Path" not in holder:
        return None
    path = parse_path(holder[f"{field}Path"])
    try:
        value = path.read(context if path.context else data)
    except PathNotFound as error:
        raise StatesError(STATES_RUNTIME, str(error)) from error
    if isinstance(value, bool) or not valid(value):
        raise StatesError(STATES_RUNTIME, refusal.format(field=field, value=to_json(value)))
    return value
