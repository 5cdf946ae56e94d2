"""Structured logs of the Glue job: one JSON object per line and milestone, through the standard
logging module (on AWS Glue, stdout and stderr go to CloudWatch Logs)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

LOGGER_NAME = "movement_lake.glue"
logger = logging.getLogger(LOGGER_NAME)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one milestone as a JSON line: time, level, logger, event, then `fields`."""
    record = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "level": logging.getLevelName(level),
        "logger": LOGGER_NAME,
        "event": event,
        **fields,
    }
    logger.log(level, json.dumps(record, default=str, ensure_ascii=False))


def configure_logging(stream: Any = None) -> None:
    """Print the job's log lines as they are (already JSON): to `stream` when given, else to
    stdout unless a stream was chosen before. Idempotent, so that a warm process running the
    script many times prints each line once, where its host (the local runtime) chose."""
    logger.setLevel(logging.INFO)
    ours = [h for h in logger.handlers if getattr(h, "_movement_lake", False)]
    if ours:
        if stream is not None:
            ours[0].setStream(stream)
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._movement_lake = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
