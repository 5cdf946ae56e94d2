"""The named errors of the ASL interpreter, and the error names of the Amazon States Language.

Three families, kept apart on purpose:

- ``UnsupportedDefinition``: raised while *loading* a definition; the interpreter refuses to run
  what it does not implement rather than silently ignoring it.
- ``TaskFailure``: raised by a task integration; it carries the AWS error name and cause.
- ``StatesError``: raised inside the interpreter while an execution runs; it becomes a
  TaskFailed/ExecutionFailed event with the same error name and cause AWS would record.
"""

from __future__ import annotations

# Predefined error names (Amazon States Language, appendix A, and the Step Functions guide).
STATES_ALL = "States.ALL"
STATES_TIMEOUT = "States.Timeout"
STATES_TASK_FAILED = "States.TaskFailed"
STATES_RUNTIME = "States.Runtime"
STATES_RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
STATES_NO_CHOICE_MATCHED = "States.NoChoiceMatched"
STATES_DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
STATES_HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
STATES_BRANCH_FAILED = "States.BranchFailed"
STATES_ITEM_READER_FAILED = "States.ItemReaderFailed"
STATES_RESULT_WRITER_FAILED = "States.ResultWriterFailed"
STATES_EXCEED_TOLERATED_FAILURE = "States.ExceedToleratedFailureThreshold"

KNOWN_STATES_ERRORS = frozenset(
    {
        STATES_ALL,
        STATES_DATA_LIMIT_EXCEEDED,
        STATES_EXCEED_TOLERATED_FAILURE,
        STATES_HEARTBEAT_TIMEOUT,
        "States.Http.Socket",
        "States.IntrinsicFailure",
        STATES_ITEM_READER_FAILED,
        STATES_NO_CHOICE_MATCHED,
        "States.ParameterPathFailure",
        "States.Permissions",
        STATES_RESULT_PATH_MATCH_FAILURE,
        STATES_RESULT_WRITER_FAILED,
        STATES_RUNTIME,
        STATES_TASK_FAILED,
        STATES_TIMEOUT,
        "States.QueryEvaluationError",
        STATES_BRANCH_FAILED,
    }
)

# Step Functions guide, "Error handling in Step Functions": States.Runtime is never retried and
# States.ALL does not catch it. States.DataLimitExceeded is NOT in this set although the guide
# calls it terminal: executions recorded against AWS show a Catch on it, by name and by
# States.ALL, taking it (LocalStack's test_states_errors snapshots, recorded on AWS).
UNCATCHABLE_ERRORS = frozenset({STATES_RUNTIME})


class UnsupportedDefinition(Exception):
    """The definition uses something this interpreter does not implement, or is invalid.

    The message names the state and the field, e.g. ``state 'X': field 'ItemProcessor' (Map)
    is not supported by the local runtime``.
    """


class TaskFailure(Exception):
    """A task integration failed with an AWS error name and cause.

    Integrations raise it with the names AWS would report, e.g.
    ``TaskFailure("States.TaskFailed", cause=json.dumps(job_run))`` for a failed Glue run or
    ``TaskFailure("Lambda.ServiceException", "...")``; Retry and Catch match on ``error``.
    """

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


class NotRedrivable(Exception):
    """RedriveExecution refused; the message is AWS's reason (e.g. "Execution is SUCCEEDED and
    cannot be redriven.")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StatesError(Exception):
    """An error raised while a state runs, with the error name and cause AWS would record.

    Both may be None only for a Fail state that names neither; a task timeout has no cause.
    ``located`` is True once the cause carries AWS's prefix naming the state ("An error occurred
    while executing the state 'X' (entered at the event id #N). ...").
    """

    def __init__(self, error: str | None, cause: str | None = "", located: bool = False) -> None:
        super().__init__(f"{error}: {cause}" if cause else str(error))
        self.error = error
        self.cause = cause
        self.located = located


class ExecutionInputTooLarge(ValueError):
    """StartExecution refused: the input is larger than Step Functions' payload quota."""
