"""`lake send-task-success TOKEN --output JSON`, `lake send-task-failure TOKEN [--error E]
[--cause C]`, `lake send-task-heartbeat TOKEN`: the Step Functions API's SendTaskSuccess,
SendTaskFailure and SendTaskHeartbeat for a `.waitForTaskToken` task of the lake. A token is
answered by the lake process whose execution waits for it (the engine's owner, e.g. a running
`lake watch`); its refusals (InvalidToken, TaskDoesNotExist, TaskTimedOut, InvalidOutput) are
said in one sentence."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from lake.runtime import Lake, RemoteError, TaskTokenError
from lake.ui import terminal

TOKEN_ERRORS = ("InvalidToken", "TaskDoesNotExist", "TaskTimedOut", "InvalidOutput")


def send(
    args: argparse.Namespace,
    open_lake: Callable[..., Lake],
    refused: type[Exception],
    request: Callable[[Lake], None],
) -> int:
    """Make one SendTask* request; a refusal becomes `refused` (exit status 1)."""
    with open_lake(args) as lake:
        try:
            request(lake)
        except (TaskTokenError, RemoteError) as e:
            if isinstance(e, RemoteError) and e.kind not in TOKEN_ERRORS:
                raise
            raise refused(
                f"{e} (a token is answered by the lake process whose execution waits for it, "
                "e.g. a running `lake watch`)"
            ) from e
    terminal.stderr().print("sent")
    return 0


def add_commands(
    command: Callable[..., argparse.ArgumentParser],
    *,
    open_lake: Callable[..., Lake],
    usage_error: type[Exception],
    refused: type[Exception],
) -> None:
    """Register the three commands with the CLI's `command(name, help, run)` helper."""

    def success(args: argparse.Namespace) -> int:
        try:
            json.loads(args.output)
        except ValueError as e:
            raise usage_error(f"--output must be JSON text: {e}") from e
        return send(
            args, open_lake, refused, lambda lake: lake.send_task_success(args.token, args.output)
        )

    def failure(args: argparse.Namespace) -> int:
        return send(
            args,
            open_lake,
            refused,
            lambda lake: lake.send_task_failure(args.token, args.error, args.cause),
        )

    def heartbeat(args: argparse.Namespace) -> int:
        return send(args, open_lake, refused, lambda lake: lake.send_task_heartbeat(args.token))

    p = command(
        "send-task-success",
        "complete a task waiting for its task token (.waitForTaskToken) with an output",
        success,
        json_flag=False,
        uses_engine=True,
    )
    p.add_argument("token", metavar="TOKEN")
    p.add_argument("--output", required=True, metavar="JSON", help="the task's result")
    p = command(
        "send-task-failure",
        "fail a task waiting for its task token (.waitForTaskToken)",
        failure,
        json_flag=False,
        uses_engine=True,
    )
    p.add_argument("token", metavar="TOKEN")
    p.add_argument("--error", help="the error name (Catch and Retry match on it)")
    p.add_argument("--cause", help="what went wrong, for a person")
    p = command(
        "send-task-heartbeat",
        "tell a task waiting for its task token that the work goes on (HeartbeatSeconds)",
        heartbeat,
        json_flag=False,
        uses_engine=True,
    )
    p.add_argument("token", metavar="TOKEN")
