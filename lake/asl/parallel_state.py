"""The Parallel state: every branch runs on a copy of the input; the output is their outputs.

Step Functions guide, "Parallel workflow state": each branch gets the state's effective input,
the result is an array of the branches' outputs in the order of Branches, and "if any branch
fails, because of an unhandled error or by transitioning to a Fail state, the entire Parallel
state is considered to have failed and all its branches are stopped"; the state fails with the
branch's error (Retry and Catch of the Parallel state then apply). History (as recorded on AWS):
ParallelStateEntered, ParallelStateStarted, the branches' own state events,
ParallelStateSucceeded or ParallelStateFailed, then ParallelStateExited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake.asl.branches import run_all
from lake.asl.errors import StatesError
from lake.asl.model import Stopped
from lake.asl.payload import render
from lake.asl.recovery import with_recovery

if TYPE_CHECKING:
    from lake.asl.run import Run


def run_parallel(run: Run, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
    """Run a Parallel state entered with ``data``; return (next state or None, output)."""

    def attempt() -> Any:
        effective = run.input_path(state, data)
        if "Parameters" in state:
            effective = render(state["Parameters"], effective, run.context, run.rng)
        run.history.add("ParallelStateStarted")
        jobs = [_branch_job(branch, effective) for branch in state["Branches"]]
        try:
            outputs = run_all(run, jobs, max_workers=len(jobs))
        except StatesError:
            run.history.add("ParallelStateFailed")
            raise
        except Stopped as stop:
            if stop.status == "ABORTED":
                run.history.add("ParallelStateAborted")
            raise
        run.history.add("ParallelStateSucceeded")
        return shape_result(run, state, data, outputs)

    return with_recovery(run, state, data, attempt)


def _branch_job(branch: dict, effective: Any) -> Any:
    return lambda scoped: scoped.run_states(branch["States"], branch["StartAt"], effective)


def shape_result(run: Run, state: dict, data: Any, result: Any) -> Any:
    """ResultSelector, then ResultPath onto the state's input, then OutputPath."""
    if "ResultSelector" in state:
        result = render(state["ResultSelector"], result, run.context, run.rng)
    return run.output_path(state, run.result_path(state, data, result))
