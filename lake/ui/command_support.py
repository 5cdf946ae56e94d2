"""What every `lake` command shares: opening the lake home of a command (and, for those that
need it, the engine: a background one started and announced, or this process's own), following
an execution to its end, and the two errors that set the exit status (UsageError: 2, Refused: 1).
"""

from __future__ import annotations

import argparse
import os

from rich.text import Text

from lake.home import LakeHome
from lake.runtime import Lake, daemon_wanted, describe_idle, idle_timeout_from_env, parse_duration
from lake.ui import terminal
from lake.ui.progress import follow_and_report


def duration_argument(text: str) -> float:
    """An argparse type: seconds from `900`, `15m`, `1h`, ... (see `parse_duration`)."""
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


class UsageError(Exception):
    """The command was used wrongly; the message says how to use it."""


class Refused(Exception):
    """The request was understood and refused (exit status 1)."""


def open_lake(args: argparse.Namespace, parallel: int = 1) -> Lake:
    """The lake home of a command. LAKE_TIME_SCALE shrinks Retry waits (tests). A command that
    needs the engine and finds none starts the background engine (unless opted out)."""
    home = LakeHome.at(getattr(args, "home", None))
    try:
        idle = idle_timeout_from_env(getattr(args, "idle_timeout", None))
    except ValueError as e:
        raise UsageError(f"LAKE_IDLE_TIMEOUT: {e}") from e

    def starting() -> None:
        terminal.stderr().print(
            Text(
                f"starting a warm engine for this lake home in the background, for the next "
                f"commands too ({describe_idle(idle)}; `lake stop` stops it; log: "
                f"{home.engine_log})",
                "dim",
            ),
            soft_wrap=True,  # one line, however long
        )

    return Lake(
        home,
        parallel=parallel,
        time_scale=float(os.environ.get("LAKE_TIME_SCALE", "1")),
        daemon=daemon_wanted(getattr(args, "no_daemon", False)),
        idle_timeout_s=idle,
        on_engine_starting=starting,
    )


def announce_engine(lake: Lake) -> None:
    """Take the engine, saying so when this command runs it itself (Spark takes a while); a
    background engine this starts announces itself (see `open_lake`)."""
    if not lake.connect():
        terminal.stderr().print(
            Text(
                "--no-daemon: this command runs the engine itself (starting Spark takes a "
                "while); without it, a background engine stays warm for the next command",
                "dim",
            )
        )


def follow(lake: Lake, name: str, as_json: bool = False, since_id: int = 0) -> int:
    """Follow an execution to its end. Ctrl-C stops following; an execution that another
    process's engine runs goes on there (one this command runs itself stops at its next state,
    interrupted)."""
    try:
        return follow_and_report(lake, name, as_json, since_id=since_id)
    except KeyboardInterrupt:
        owner = lake.engine_owner() if lake.connect() else None
        if owner is None:
            raise
        terminal.stderr().print(
            Text(
                f"stopped following; execution {name} goes on in the engine (pid {owner.pid}): "
                f"`lake describe {name}` shows it, `lake stop --now` interrupts it"
            ),
            soft_wrap=True,
        )
        return 130
