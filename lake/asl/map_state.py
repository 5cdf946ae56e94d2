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

Redriven (API reference, RedriveExecution), the state reruns only the iterations that failed or
were aborted, each from the state it stopped in; the others keep the output they had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake.asl import map_run
from lake.asl.branches import recording_end, run_all
from lake.asl.errors import StatesError
from lake.asl.map_definition import mode_of, processor_of
from lake.asl.map_items import count_field, items_at, select_item
from lake.asl.parallel_state import shape_result
from lake.asl.recovery import with_recovery
from lake.asl.resume import Finished, Resume, branch_outcomes

if TYPE_CHECKING:
    from lake.asl.run import Run

INLINE_MAX_CONCURRENCY = 40


def run_map(run: Run, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
    """Run a Map state entered with ``data``; return (next state or None, output)."""
    resume = run.entering
    if mode_of(state) == "DISTRIBUTED":
        return with_recovery(
            run, state, data, lambda: map_run.run_distributed(run, name, state, data, resume)
        )

    def attempt() -> Any:
        nonlocal resume
        effective = run.input_path(state, data)
        items = items_at(run, state, effective)
        limit = count_field(run, state, effective, "MaxConcurrency") or INLINE_MAX_CONCURRENCY
        run.history.add("MapStateStarted", {"length": len(items)})
        processor = processor_of(state)
        outcomes = None
        if resume is not None:
            inputs = [select_item(run, state, effective, i, item) for i, item in enumerate(items)]
            outcomes = branch_outcomes(resume, "Map", [processor] * len(items), inputs)
        resume = None  # a Retry's attempt runs every iteration again

        def iteration(index: int, outcome: Finished | Resume | None) -> Any:
            def job(scoped: Run) -> Any:
                details = {"index": index, "name": name}
                scoped.history.add("MapIterationStarted", details)
                try:
                    if isinstance(outcome, Resume):
                        scoped.resume = outcome
                        start, value = outcome.state_name, outcome.state_input
                    else:
                        start = processor["StartAt"]
                        value = select_item(scoped, state, effective, index, items[index])
                    output = scoped.run_states(processor["States"], start, value)
                except StatesError:
                    scoped.history.add("MapIterationFailed", details)
                    raise
                scoped.history.add("MapIterationSucceeded", details)
                return output

            return job

        outputs: list[Any] = [None] * len(items)
        pending = []
        for index in range(len(items)):
            outcome = outcomes[index] if outcomes is not None else None
            if isinstance(outcome, Finished):
                outputs[index] = outcome.output
            else:
                pending.append((index, outcome))

        def cancelled(position: int) -> None:
            run.history.add("MapIterationAborted", {"index": pending[position][0], "name": name})

        jobs = [iteration(index, outcome) for index, outcome in pending]
        with recording_end(run, "Map"):
            done = run_all(run, jobs, limit, cancelled)
            for (index, _), output in zip(pending, done, strict=True):
                outputs[index] = output
        return shape_result(run, state, data, outputs)

    return with_recovery(run, state, data, attempt)
