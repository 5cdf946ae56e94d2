"""Per-execution log files: `<home>/logs/<execution name>.log`.

In AWS the validator's powertools JSON lines go to CloudWatch and the Glue job's to its log
group. Locally both go to one file per execution. The integrations call the handler and the
job in the thread that runs the task, so a thread-local "current log" routes each line to the
right file, also when several executions run at once."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

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


def route_powertools_logger(logger: object) -> Callable[[], None]:
    """Point a powertools Logger's handler at the execution logs (keeping its JSON format);
    returns what puts it back."""
    handler = getattr(logger, "registered_handler", None)
    if not isinstance(handler, logging.StreamHandler) or handler.stream is ROUTING_STREAM:
        return lambda: None
    return swap_stream(handler, ROUTING_STREAM)


def swap_stream(handler: logging.StreamHandler, stream: object) -> Callable[[], None]:
    """Point `handler` at `stream`; returns what puts the old one back. Unlike setStream, never
    flushes the old stream, which may be closed already (e.g. a finished test's capture)."""
    with handler.lock or contextlib.nullcontext():
        original, handler.stream = handler.stream, stream

    def restore() -> None:
        with handler.lock or contextlib.nullcontext():
            handler.stream = original

    return restore
