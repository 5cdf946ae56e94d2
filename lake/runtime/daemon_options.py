"""The background engine's options, as commands and the daemon read them: whether commands
use one (`--no-daemon`, LAKE_NO_DAEMON), and after how long idle it stops (`--idle-timeout`,
LAKE_IDLE_TIMEOUT, 15 minutes by default)."""

from __future__ import annotations

import os
import re

DEFAULT_IDLE_TIMEOUT_S = 15 * 60.0
IDLE_ENV = "LAKE_IDLE_TIMEOUT"
NO_DAEMON_ENV = "LAKE_NO_DAEMON"


def parse_duration(text: str | float | int) -> float:
    """Seconds from `900`, `900s`, `15m`, `1h` or `0` (never)."""
    if isinstance(text, int | float):
        return float(text)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration: write e.g. 900, 90s, 15m or 1h (0: never)")
    value, unit = float(match.group(1)), (match.group(2) or "s")
    return value * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]


def idle_timeout_from_env(explicit: str | float | None = None) -> float:
    """The idle timeout: the flag beats LAKE_IDLE_TIMEOUT, which beats 15 minutes."""
    if explicit is not None:
        return parse_duration(explicit)
    value = os.environ.get(IDLE_ENV)
    return parse_duration(value) if value else DEFAULT_IDLE_TIMEOUT_S


def daemon_wanted(no_daemon_flag: bool = False) -> bool:
    """Whether commands start (and use) a background engine: not with --no-daemon or
    LAKE_NO_DAEMON set to anything but 0/false/no/empty."""
    value = os.environ.get(NO_DAEMON_ENV, "").strip().lower()
    return not no_daemon_flag and value in ("", "0", "false", "no")


def describe_duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def describe_idle(seconds: float) -> str:
    if seconds <= 0:
        return "runs until `lake stop`"
    return f"stops after {describe_duration(seconds)} idle"
