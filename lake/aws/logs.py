"""CloudWatch Logs played locally: one file per execution, `<home>/logs/<execution name>.log`.

In AWS the validator's powertools JSON lines go to CloudWatch and the Glue job's to its log
group. Locally both go to one file per execution. The integrations call the handler and the
job in the thread that runs the task, so a thread-local "current log" routes each line to the
right file, also when several executions run at once."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_current = threading.local()


def current_log() -> io.TextIOBase | None:
    return getattr(_current, "file", None)


@contextlib.contextmanager
def logging_to(path: Path) -> Iterator[None]:
    """Route this thread's task logs to `path` (appended) for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = current_log()
    with path.open("a", encoding="utf-8") as file:
        _current.file = file
        try:
            yield
        finally:
            _current.file = previous


class RoutingStream(io.TextIOBase):
    """A stream that writes to the current thread's execution log, and drops text written
    outside any execution (the console is for the CLI's own output)."""

    def write(self, text: str) -> int:
        file = current_log()
        if file is not None:
            file.write(text)
            file.flush()
        return len(text)

    def writable(self) -> bool:
        return True


class RoutingHandler(logging.Handler):
    """A logging handler that writes records to the current thread's execution log, if any."""

    def __init__(self, formatter: logging.Formatter | None = None) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(
            formatter or logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )

    def emit(self, record: logging.LogRecord) -> None:
        file = current_log()
        if file is None:
            return
        try:
            file.write(self.format(record) + "\n")
            file.flush()
        except Exception:  # a log line must never fail a task
            self.handleError(record)


ROUTING_STREAM = RoutingStream()


def function_logger(function_name: str) -> Any:
    """A Powertools Logger for a local Lambda function whose JSON lines go to the current
    execution's log (on AWS they go to the function's log group). Its service is the function's
    name, as POWERTOOLS_SERVICE_NAME makes it on AWS."""
    from aws_lambda_powertools import Logger

    return Logger(service=function_name, stream=ROUTING_STREAM)
