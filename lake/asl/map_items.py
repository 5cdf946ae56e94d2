"""What a Map state (Inline or Distributed) reads from its input: the items (ItemsPath), each
item's input (ItemSelector, legacy Parameters, with ``$$.Map.Item``), and the counts given
directly or by a ``<field>Path`` (MaxConcurrency, MaxItems, ToleratedFailureCount, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake.asl.errors import STATES_RUNTIME, StatesError
from lake.asl.history import to_json
from lake.asl.path_fields import field_value
from lake.asl.paths import PathNotFound, parse_path
from lake.asl.payload import render

if TYPE_CHECKING:
    from lake.asl.run import Run


def items_at(run: Run, state: dict, effective: Any) -> list:
    """The array ItemsPath selects (States.Runtime when it is not an array)."""
    path = parse_path(state.get("ItemsPath", "$"))
    try:
        items = path.read(run.context if path.context else effective)
    except PathNotFound as error:
        raise StatesError(STATES_RUNTIME, str(error)) from error
    if not isinstance(items, list):
        raise StatesError(
            STATES_RUNTIME,
            f"Map state input must be an array, but was: {to_json(items)} (ItemsPath "
            f"'{path.text}')",
        )
    return items


def select_item(run: Run, state: dict, effective: Any, index: int, item: Any) -> Any:
    """An item's input: ItemSelector (or legacy Parameters) rendered with ``$$.Map.Item``."""
    selector = state.get("ItemSelector", state.get("Parameters"))
    if selector is None:
        return item
    run.context["Map"] = {"Item": {"Index": index, "Value": item}}
    try:
        return render(selector, effective, run.context, run.rng)
    finally:
        run.context.pop("Map", None)


def count_field(run: Run, holder: dict, data: Any, field: str) -> Any:
    """A number given directly or by ``<field>Path`` (reference path into ``data``); None
    when neither is there. A path must select a non-negative number (else States.Runtime)."""
    return field_value(
        holder,
        field,
        data,
        run.context,
        valid=lambda value: isinstance(value, int | float) and value >= 0,
        refusal="The {field}Path field refers to value {value} which is not a valid "
        "non-negative number",
    )
