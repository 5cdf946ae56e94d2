"""An execution's story, read from its Step Functions history one way for everyone: which state
failed, the error and its cause in readable words, whether the fault lies in the file, and what
to do next. The alert e-mail, `lake upload`'s summary, `lake describe` and the console all read
it here, so the same failure gets the same advice everywhere.

Pure (standard library and `contract` only): the alert Lambda and the local runtime both import
it without pulling in the other's dependencies. Histories are lists of events shaped as
GetExecutionHistory returns them (any order; the tail is enough)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from contract.errors import FILE_FAULTS

CAUSE_MAX = 2000

# What to do next, in one word each; the faces turn them into their own commands.
FIX_FILE = "fix_file"  # the file breaks the contract: correct it and upload it again
REDRIVE = "redrive"  # something else failed: deal with it, then resume where it stopped
START_AGAIN = "start_again"  # redrive is not available: start a new execution, same input

# Event detail keys that carry an error and a cause, the most specific first.
_FAILURE_DETAILS = (
    "taskFailedEventDetails",
    "taskTimedOutEventDetails",
    "lambdaFunctionFailedEventDetails",
    "lambdaFunctionTimedOutEventDetails",
    "executionFailedEventDetails",
    "executionTimedOutEventDetails",
    "executionAbortedEventDetails",
)
# Map and Parallel states write their iterations' and branches' events into the parent history
# between these: a failed inner state is not the execution's failed state, the Map/Parallel is.
NESTED_START = ("MapStateStarted", "ParallelStateStarted")
NESTED_END = tuple(
    f"{kind}State{end}"
    for kind in ("Map", "Parallel")
    for end in ("Succeeded", "Failed", "Aborted")
)


def with_nesting_depth(
    events: Iterable[Mapping[str, Any]],
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Each event with how deep it sits inside Map iterations and Parallel branches: 0 for the
    execution's own states. A Map or Parallel state's Started event already counts 1, its
    Succeeded/Failed/Aborted event 0 again."""
    depth = 0
    for event in events:
        kind = event.get("type", "")
        if kind in NESTED_START:
            depth += 1
        elif kind in NESTED_END:
            depth = max(depth - 1, 0)
        yield depth, event


def _ordered(history: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(history, key=lambda e: int(e.get("id", 0)))


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


def failed_state(history: Iterable[Mapping[str, Any]]) -> str | None:
    """The top-level state the execution was in when it ended: entered and not exited (a redrive
    enters the unfinished state again, so it starts the count over)."""
    open_states: list[str] = []
    for depth, event in with_nesting_depth(_ordered(history)):
        kind = str(event.get("type", ""))
        if kind == "ExecutionRedriven":
            open_states.clear()
        elif depth == 0 and kind.endswith("StateEntered"):
            open_states.append(event["stateEnteredEventDetails"]["name"])
        elif depth == 0 and kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in open_states:
                open_states.remove(name)
    return open_states[-1] if open_states else None


def last_failure(history: Iterable[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """The (error, cause) of the most recent failure event in the history."""
    for event in reversed(_ordered(history)):
        for key in _FAILURE_DETAILS:
            details = event.get(key)
            if details and (details.get("error") or details.get("cause")):
                return details.get("error"), details.get("cause")
    return None, None


def glue_run(cause: str | None) -> Mapping[str, Any] | None:
    """The Glue JobRun a cause holds (what glue:startJobRun.sync reports on failure), if any."""
    doc = _json(cause)
    return doc if isinstance(doc, Mapping) and "JobRunState" in doc else None


def readable_cause(cause: str | None) -> str:
    """The human part of a cause: a Lambda error's message, a Glue run's ErrorMessage, an Athena
    query's reason; else the cause as recorded (shortened)."""
    if not cause:
        return "(no cause recorded)"
    doc = _json(cause)
    if isinstance(doc, Mapping):
        if doc.get("errorMessage"):  # Lambda: {"errorType", "errorMessage", "stackTrace", ...}
            return str(doc["errorMessage"])
        if "JobRunState" in doc or "ErrorMessage" in doc:  # Glue: the JobRun
            run = " ".join(filter(None, ["Glue job run", doc.get("Id")]))
            state = doc.get("JobRunState", "FAILED")
            return f"{run} ended {state}: {doc.get('ErrorMessage') or 'no message'}"
        status = (doc.get("QueryExecution") or {}).get("Status") or {}
        if status:  # Athena: the QueryExecution
            reason = status.get("StateChangeReason") or (status.get("AthenaError") or {}).get(
                "ErrorMessage"
            )
            return f"Athena query ended {status.get('State', 'FAILED')}: {reason or 'no reason'}"
    text = cause.strip()
    return text if len(text) <= CAUSE_MAX else text[:CAUSE_MAX] + " ... (shortened)"


def fault_in_file(error: str | None, cause: str | None) -> bool:
    """Whether the file itself is at fault: the validator refused it (the error is a file fault),
    or the Glue job did (its run's message starts with a file fault's name, e.g.
    `TooManyRejects: ...`). Running the same file again cannot help then."""
    if error in FILE_FAULTS:
        return True
    run = glue_run(cause)
    message = str((run or {}).get("ErrorMessage") or "")
    return message.split(":", 1)[0].strip() in FILE_FAULTS


@dataclass(frozen=True)
class Story:
    """How an execution that ended badly reads: where, what, why, and what to do."""

    status: str
    state: str | None
    error: str | None
    cause: str | None
    reason: str
    fault_in_file: bool
    next_step: str  # FIX_FILE, REDRIVE or START_AGAIN

    @property
    def job_failed(self) -> bool:
        return glue_run(self.cause) is not None


def read_story(
    history: Iterable[Mapping[str, Any]],
    status: str,
    error: str | None = None,
    cause: str | None = None,
    redrive_status: str | None = None,
) -> Story:
    """The story of an execution that ended `status`. `error` and `cause` (as DescribeExecution
    or the status-change event give them) win over what the history's last failure says."""
    events = _ordered(history)
    history_error, history_cause = last_failure(events)
    error = error or history_error
    cause = cause or history_cause
    if status == "TIMED_OUT" and not error:
        error = "States.Timeout"
    if status == "ABORTED" and not cause:
        cause = "The execution was stopped (StopExecution, from the console, the CLI or an API)."
    in_file = status == "FAILED" and fault_in_file(error, cause)
    if in_file:
        step = FIX_FILE
    elif redrive_status and redrive_status != "REDRIVABLE":
        step = START_AGAIN
    else:
        step = REDRIVE
    return Story(
        status=status,
        state=failed_state(events),
        error=error,
        cause=cause,
        reason=readable_cause(cause),
        fault_in_file=in_file,
        next_step=step,
    )
