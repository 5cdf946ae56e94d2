"""Task tokens of ``.waitForTaskToken`` tasks, and SendTaskSuccess / SendTaskFailure /
SendTaskHeartbeat.

Step Functions guide, "Wait for a Callback with Task Token": a task whose Resource ends in
``.waitForTaskToken`` passes ``$$.Task.Token`` to its integration and then pauses until someone
calls SendTaskSuccess or SendTaskFailure with that token, or until its TimeoutSeconds (or, without
a heartbeat in time, its HeartbeatSeconds) run out. Step Functions API reference
(SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat) names the errors a caller gets:
``InvalidToken``, ``TaskDoesNotExist``, ``TaskTimedOut`` and (SendTaskSuccess) ``InvalidOutput``.

One ``TaskTokens`` object may serve many executors and executions in a process: pass the same
instance to each ``Executor(task_tokens=...)`` and hand it to whatever receives callbacks (a CLI,
an API). Every method is thread-safe.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{64}$")
_MAX_TOKEN = 2048  # the API's length limit for taskToken


class TaskTokenError(Exception):
    """A Send* call refused, with the Step Functions API's error ``code``."""

    code = "TaskTokenError"

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.code}: {message}")
        self.message = message


class InvalidToken(TaskTokenError):
    """The token is not one Step Functions could have issued."""

    code = "InvalidToken"


class TaskDoesNotExist(TaskTokenError):
    """No task waits on this token (never issued here, or already completed)."""

    code = "TaskDoesNotExist"


class TaskTimedOut(TaskTokenError):
    """The task of this token timed out before the call arrived."""

    code = "TaskTimedOut"


class InvalidOutput(TaskTokenError):
    """SendTaskSuccess's output is not JSON text."""

    code = "InvalidOutput"


@dataclass
class Outcome:
    """How a waiting task ended: ``output`` (JSON text) on success, else ``error``/``cause``."""

    succeeded: bool
    output: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass
class _Waiting:
    execution_arn: str
    state_name: str
    beat: float = field(default_factory=time.monotonic)
    outcome: Outcome | None = None


class TaskTokens:
    """The registry of open task tokens (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._open: dict[str, _Waiting] = {}
        self._closed: dict[str, str] = {}  # token -> "timed out" | "done"

    # -- what the interpreter uses ---------------------------------------------------------

    def issue(self, execution_arn: str, state_name: str) -> str:
        """A new token for a task of ``execution_arn`` now waiting in ``state_name``."""
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._open[token] = _Waiting(execution_arn, state_name)
        return token

    def wait(self, token: str, seconds: float) -> tuple[Outcome | None, float]:
        """Wait up to ``seconds`` for an outcome; return it (or None) and the monotonic time of
        the latest heartbeat (or of the issue)."""
        with self._lock:
            waiting = self._open[token]
            if waiting.outcome is None and seconds > 0:
                self._lock.wait(seconds)
            return waiting.outcome, waiting.beat

    def close(self, token: str, timed_out: bool) -> None:
        """Stop waiting on ``token``; later calls get TaskTimedOut or TaskDoesNotExist."""
        with self._lock:
            self._open.pop(token, None)
            if self._closed.get(token) != "timed out":
                self._closed[token] = "timed out" if timed_out else "done"

    def waiting(self) -> list[dict[str, str]]:
        """The open tokens with their execution and state (for a runtime's listing)."""
        with self._lock:
            return [
                {"taskToken": t, "executionArn": w.execution_arn, "stateName": w.state_name}
                for t, w in self._open.items()
                if w.outcome is None
            ]

    # -- SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat -----------------------------

    def send_success(self, task_token: str, output: str) -> None:
        """SendTaskSuccess: ``output`` is the task's result as JSON text."""
        try:
            json.loads(output)
        except (TypeError, ValueError) as error:
            raise InvalidOutput(f"the output is not JSON text: {error}") from error
        self._finish(task_token, Outcome(True, output=output))

    def send_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        """SendTaskFailure: the task fails with ``error`` and ``cause`` (both optional)."""
        self._finish(task_token, Outcome(False, error=error, cause=cause))

    def send_heartbeat(self, task_token: str) -> None:
        """SendTaskHeartbeat: the task is still being worked on; its heartbeat clock restarts."""
        with self._lock:
            waiting = self._find(task_token)
            waiting.beat = time.monotonic()
            self._lock.notify_all()

    def _finish(self, task_token: str, outcome: Outcome) -> None:
        with self._lock:
            waiting = self._find(task_token)
            if waiting.outcome is not None:
                raise TaskDoesNotExist("Task does not exist anymore")
            waiting.outcome = outcome
            self._lock.notify_all()

    def _find(self, task_token: Any) -> _Waiting:
        if not isinstance(task_token, str) or not 1 <= len(task_token) <= _MAX_TOKEN:
            raise InvalidToken("Invalid token")
        if task_token in self._open:
            return self._open[task_token]
        if self._closed.get(task_token) == "timed out":
            raise TaskTimedOut("Task Timed Out")
        if task_token in self._closed or _TOKEN.match(task_token):
            raise TaskDoesNotExist("Task does not exist anymore")
        raise InvalidToken("Invalid token")
