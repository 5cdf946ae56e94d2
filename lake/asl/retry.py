"""Retry and Catch: which errors a retrier or catcher matches, and how long to wait.

AWS semantics (Step Functions guide, "Handling errors"):

- Retriers are scanned in order and the first whose ErrorEquals matches applies; each retrier
  counts its own attempts over the life of one state entry. A retrier that has used up
  MaxAttempts does not hand over to a later retrier: the error goes on to Catch.
- The wait before retry n (1-based) of a retrier is IntervalSeconds * BackoffRate^(n-1),
  capped by MaxDelaySeconds; JitterStrategy FULL draws it uniformly from [0, that wait].
- ``States.ALL`` matches any error, ``States.TaskFailed`` any error but ``States.Timeout``;
  States.Runtime is never retried nor caught.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from lake.asl.errors import (
    KNOWN_STATES_ERRORS,
    STATES_ALL,
    STATES_TASK_FAILED,
    STATES_TIMEOUT,
    UNCATCHABLE_ERRORS,
)

_MAX_COUNT = 99_999_999
_MAX_DELAY = 31_622_400  # a year, AWS's bound for MaxDelaySeconds
RETRIER_FIELDS = frozenset(
    {
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    }
)
CATCHER_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Comment"})


def error_matches(error_equals: list[str], error: str) -> bool:
    """Whether an error name is matched by a retrier's or catcher's ErrorEquals."""
    if error in UNCATCHABLE_ERRORS:
        return False
    for name in error_equals:
        if name in (STATES_ALL, error):
            return True
        if name == STATES_TASK_FAILED and error != STATES_TIMEOUT:
            return True
    return False


@dataclass(frozen=True)
class Retrier:
    """One element of a Retry array, with AWS's defaults filled in."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter: str = "NONE"

    @classmethod
    def from_json(cls, raw: dict) -> Retrier:
        """A retrier from its (validated) JSON object."""
        return cls(
            error_equals=tuple(raw["ErrorEquals"]),
            interval_seconds=raw.get("IntervalSeconds", 1),
            max_attempts=raw.get("MaxAttempts", 3),
            backoff_rate=float(raw.get("BackoffRate", 2.0)),
            max_delay_seconds=raw.get("MaxDelaySeconds"),
            jitter=raw.get("JitterStrategy", "NONE"),
        )

    def delay(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before this retrier's ``retry_number``-th retry (1-based)."""
        wait = self.interval_seconds * self.backoff_rate ** (retry_number - 1)
        if self.max_delay_seconds is not None:
            wait = min(wait, self.max_delay_seconds)
        if self.jitter == "FULL":
            wait = rng.uniform(0, wait)
        return wait


@dataclass
class RetryBudget:
    """The retriers of one state entry and how many retries each has used so far."""

    retriers: list[Retrier]
    used: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = [0] * len(self.retriers)

    def next_delay(self, error: str, rng: random.Random) -> float | None:
        """The wait before retrying after ``error``, or None when it is not to be retried."""
        for index, retrier in enumerate(self.retriers):
            if not error_matches(list(retrier.error_equals), error):
                continue
            if self.used[index] >= retrier.max_attempts:
                return None
            self.used[index] += 1
            return retrier.delay(self.used[index], rng)
        return None


def check_error_equals(names: Any, where: str, last: bool) -> None:
    """Validate an ErrorEquals array; raise ValueError naming what is wrong."""
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{where}: 'ErrorEquals' must be a non-empty array of error names")
    if STATES_ALL in names and (len(names) > 1 or not last):
        raise ValueError(f"{where}: 'States.ALL' must appear alone, in the last element")
    for name in names:
        if name.startswith("States.") and name not in KNOWN_STATES_ERRORS:
            raise ValueError(f"{where}: '{name}' is not an error name Step Functions defines")


def check_retrier(raw: Any, where: str, last: bool) -> None:
    """Validate one retrier's fields and ranges; raise ValueError naming the field."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a retrier must be an object")
    for key in raw:
        if key not in RETRIER_FIELDS:
            raise ValueError(f"{where}: field '{key}' is not supported by the local runtime")
    check_error_equals(raw.get("ErrorEquals"), where, last)
    _check_int(raw, "IntervalSeconds", 1, _MAX_COUNT, where)
    _check_int(raw, "MaxAttempts", 0, _MAX_COUNT, where)
    _check_int(raw, "MaxDelaySeconds", 1, _MAX_DELAY, where)
    rate = raw.get("BackoffRate", 2.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 1.0:
        raise ValueError(f"{where}: 'BackoffRate' must be a number >= 1.0")
    if raw.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
        raise ValueError(f"{where}: 'JitterStrategy' must be FULL or NONE")


def _check_int(raw: dict, key: str, low: int, high: int, where: str) -> None:
    if key not in raw:
        return
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: '{key}' must be an integer from {low} to {high}")
