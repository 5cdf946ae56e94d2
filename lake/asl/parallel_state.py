"""The Parallel state: every branch runs on a copy of the input; the output is their outputs.

Step Functions guide, "Parallel workflow state": each branch gets the state's effective input,
the result is an array of the branches' outputs in the order of Branches, and "if any branch
fails, because of an unhandled error or by transitioning to a Fail state, the entire Parallel
state is considered to have failed and all its branches are stopped"; the state fails with the
branch's error (Retry and Catch of the Parallel state then apply). History (as recorded on AWS):
ParallelStateEntered, ParallelStateStarted, the branches' own state events,
ParallelStateSucceeded or ParallelStateFailed, then ParallelStateExited.

Redriven (API reference, RedriveExecution), the state reruns only the branches that failed or
were aborted, each from the state it stopped in; the others keep the output they had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lake.asl.branches import recording_end, run_all
from lake.asl.payload import render
from lake.asl.recovery import with_recovery
from lake.asl.resume import Finished, Resume, branch_outcomes

if TYPE_CHECKING:
    from lake.asl.run import Run


def run_parallel(run: Run, name: str, state: dict, data: Any) -> tuple[str | None, Any]:
    """Run a Parallel state entered with ``data``; return (next state or None, output)."""
    resume = run.entering

    def attempt() -> Any:
        nonlocal resume
        effective = run.input_path(state, data)
        if "Parameters" in state:
            effective = render(state["Parameters"], effective, run.context, run.rng)
        run.history.add("ParallelStateStarted")
        branches = state["Branches"]
        outcomes = (
            branch_outcomes(resume, "Parallel", branches, [effective] * len(branches))
            if resume is not None
            else None
        )
        resume = None  # a Retry's attempt runs every branch again
        with recording_end(run, "Parallel"):
            outputs = run_some(run, branches, effective, outcomes)
        return shape_result(run, state, data, outputs)

    return with_recovery(run, state, data, attempt)


def run_some(
    run: Run, branches: list[dict], effective: Any, outcomes: list[Finished | Resume] | None
) -> list[Any]:
    """Every branch's output: those a redrive found finished as they were, the others run
    (from where they stopped, on a redrive)."""
    outputs: list[Any] = [None] * len(branches)
    pending = []
    for index in range(len(branches)):
        outcome = outcomes[index] if outcomes is not None else None
        if isinstance(outcome, Finished):
            outputs[index] = outcome.output
        else:
            pending.append(index)
    jobs = [_branch_job(branches[i], effective, outcomes[i] if outcomes else None) for i in pending]
    for index, output in zip(pending, run_all(run, jobs, max_workers=len(jobs)), strict=True):
        outputs[index] = output
    return outputs


def _branch_job(branch: dict, effective: Any, resume: Finished | Resume | None) -> Any:
    def job(scoped: Run) -> Any:
        if isinstance(resume, Resume):
            scoped.resume = resume
            return scoped.run_states(branch["States"], resume.state_name, resume.state_input)
        return scoped.run_states(branch["States"], branch["StartAt"], effective)

    return job


def shape_result(run: Run, state: dict, data: Any, result: Any) -> Any:
    """ResultSelector, then ResultPath onto the state's input, then OutputPath."""
    if "ResultSelector" in state:
        result = render(state["ResultSelector"], result, run.context, run.rng)
    return run.output_path(state, run.result_path(state, data, result))
