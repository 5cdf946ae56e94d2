"""The Map state in Inline mode; Distributed mode lives in ``map_run``.

Step Functions guide, "Map state" and "Using Map state in Inline mode": the items are the array
ItemsPath selects in the effective input (default ``$``); ItemSelector (legacy: Parameters),
which may read ``$$.Map.Item.Index`` and ``$$.Map.Item.Value``, makes each iteration's input;
each iteration runs ItemProcessor's (legacy: Iterator's) states; at most MaxConcurrency
iterations run at once (0: no limit, and Inline mode runs at most 40 at once); the result is
the iterations' outputs in item order. If an iteration fails the Map state fails with its error
and the other iterations are stopped. History (as AWS records it): MapStateEntered,
MapStateStarted (length), then per iteration MapIterationStarted (name, index), its states'
events, MapIterationSucceeded / MapIterationFailed / MapIterationAborted; then
MapStateSucceeded / MapStateFailed / MapStateAborted and MapStateExited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake.asl import map_run
from lake.asl.branches import run_all
from lake.asl.errors import STATES_RUNTIME, StatesError
from lake.asl.history import to_json
from lake.asl.map_definition import mode_of, processor_of
from lake.asl.model import Stopped
from lake.asl.parallel_state import shape_result
from lake.asl.paths import PathNotFound, parse_path
from lake.asl.payload import render
from lake.asl.recovery import with_recovery

if TYPE_CHECKING:
    from lake.asl.run import Run

INLINE_MAX_CONCURRENCY = 40


def run_map(run: Run, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
    """Run a Map state entered with ``data``; return (next state or None, output)."""
    if mode_of(state) == "DISTRIBUTED":
        return with_recovery(
            run, state, data, lambda: map_run.run_distributed(run, name, state, data)
        )

    def attempt() -> Any:
        effective = run.input_path(state, data)
        items = items_at(run, state, effective)
        limit = count_field(run, state, effective, "MaxConcurrency") or INLINE_MAX_CONCURRENCY
        run.history.add("MapStateStarted", {"length": len(items)})
        processor = processor_of(state)

        def iteration(index: int) -> Any:
            def job(scoped: Run) -> Any:
                value = select_item(scoped, state, effective, index, items[index])
                details = {"index": index, "name": name}
                scoped.history.add("MapIterationStarted", details)
                try:
                    output = scoped.run_states(processor["States"], processor["StartAt"], value)
                except StatesError:
                    scoped.history.add("MapIterationFailed", details)
                    raise
                scoped.history.add("MapIterationSucceeded", details)
                return output

            return job

        def cancelled(index: int) -> None:
            run.history.add("MapIterationAborted", {"index": index, "name": name})

        try:
            outputs = run_all(run, [iteration(i) for i in range(len(items))], limit, cancelled)
        except StatesError:
            run.history.add("MapStateFailed")
            raise
        except Stopped as stop:
            if stop.status == "ABORTED":
                run.history.add("MapStateAborted")
            raise
        run.history.add("MapStateSucceeded")
        return shape_result(run, state, data, outputs)

    return with_recovery(run, state, data, attempt)


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
    if field in holder:
        return holder[field]
    if f"{field}Path" not in holder:
        return None
    path = parse_path(holder[f"{field}Path"])
    try:
        value = path.read(run.context if path.context else data)
    except PathNotFound as error:
        raise StatesError(STATES_RUNTIME, str(error)) from error
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise StatesError(
            STATES_RUNTIME,
            f"The {field}Path field refers to value {to_json(value)} which is not a valid "
            "non-negative number",
        )
    return value
