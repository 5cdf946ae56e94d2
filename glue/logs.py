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


def configure_logging(stream: Any = sys.stdout) -> None:
    """Print the job's log lines as they are (already JSON) to `stream`; idempotent, so that a
    warm process running the script many times does not print each line many times."""
    logger.setLevel(logging.INFO)
    if not any(getattr(h, "_movement_lake", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._movement_lake = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
