"""Retry and Catch around one entry of a Task, Parallel or Map state.

Step Functions guide, "Handling errors in Step Functions workflows": the state's attempt is
retried by the first retrier whose ErrorEquals matches, then handed to the first matching catcher,
whose ResultPath places ``{"Error", "Cause"}`` on the state's input and whose Next is taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lake.asl.errors import UNCATCHABLE_ERRORS, StatesError
from lake.asl.retry import Retrier, RetryBudget, error_matches

if TYPE_CHECKING:
    from lake.asl.run import Run


def error_output(error: StatesError) -> dict:
    """What a catcher receives: ``{"Error": ..., "Cause": ...}`` (no Cause when there is none)."""
    output: dict[str, Any] = {"Error": error.error}
    if error.cause is not None:
        output["Cause"] = error.cause
    return output


def with_recovery(
    run: Run, state: dict, data: Any, attempt: Callable[[], Any]
) -> tuple[str | None, Any]:
    """Call ``attempt()`` (one try of the state, returning its output) under the state's Retry
    and Catch; return (next state or None, output). Raises StatesError when no catcher takes
    the error."""
    budget = RetryBudget([Retrier.from_json(raw) for raw in state.get("Retry", [])])
    while True:
        try:
            return state.get("Next"), attempt()
        except StatesError as error:
            if error.error in UNCATCHABLE_ERRORS:
                raise
            delay = budget.next_delay(error.error, run.rng)
            if delay is not None:
                run.wait(delay * run.time_scale)
                run.context["State"]["RetryCount"] += 1
                continue
            for catcher in state.get("Catch", []):
                if error_matches(catcher["ErrorEquals"], error.error):
                    return catcher["Next"], run.result_path(catcher, data, error_output(error))
            raise
