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

KNOWN_STATES_ERRORS = frozenset(
    {
        STATES_ALL,
        "States.DataLimitExceeded",
        "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout",
        "States.Http.Socket",
        "States.IntrinsicFailure",
        "States.ItemReaderFailed",
        STATES_NO_CHOICE_MATCHED,
        "States.ParameterPathFailure",
        "States.Permissions",
        STATES_RESULT_PATH_MATCH_FAILURE,
        "States.ResultWriterFailed",
        STATES_RUNTIME,
        STATES_TASK_FAILED,
        STATES_TIMEOUT,
        "States.QueryEvaluationError",
        "States.BranchFailed",
    }
)

# AWS: these always fail the execution; neither States.ALL nor an explicit name retries or
# catches them.
UNCATCHABLE_ERRORS = frozenset({STATES_RUNTIME, "States.DataLimitExceeded"})


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

    Both may be None only for a Fail state that names neither.
    """

    def __init__(self, error: str | None, cause: str | None = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else str(error))
        self.error = error
        self.cause = cause
