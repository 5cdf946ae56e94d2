"""The `lake` command line: the local runtime of movement-lake.

Every command takes `--home DIR` (else $LAKE_HOME, else ./.lake). Commands that print data take
`--json`. Exit status: 0 success, 1 a failed execution or refused request, 2 bad use. Errors a
user can fix are one sentence on stderr, never a traceback. Every command works through
`lake.runtime.Lake`, the one face of the runtime.

Warm by default: the first command that needs the engine starts a background engine for the
home and says so in one line; later commands, from any shell, are served warm by it until it
has been idle `--idle-timeout` (LAKE_IDLE_TIMEOUT, default 15 min) or `lake stop` stops it.
`--no-daemon` (LAKE_NO_DAEMON=1) runs the engine in the command itself, for its own duration.

User text (keys, file names, messages, values) is never read as rich markup: it is printed as
`Text` or escaped, so a key holding `[/]` or `[link=...]` prints as itself."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.text import Text

from contract import layout
from lake.home import NotInBucket, keep_private
from lake.runtime import EngineError, ExecutionNotFound, Lake, NotRedrivable, RemoteError
from lake.ui import (
    backfill_command,
    demo,
    engine_commands,
    generate_command,
    task_token_commands,
    terminal,
    view_commands,
)
from lake.ui.command_support import (
    Refused,
    UsageError,
    announce_engine,
    duration_argument,
    follow,
    open_lake,
)
from lake.ui.views import query_csv, query_json, query_table


# --- upload ----------------------------------------------------------------------------------
def upload_key(source: Path, key: str | None, city: str | None) -> str:
    if key and city:
        raise UsageError("give either --key or --city, not both")
    if key:
        return key.lstrip("/")
    if not city:
        raise UsageError(
            f"say which city {source.name} is about: --city CITY puts it at "
            f"travel_times/CITY/{source.name} (or give the whole --key)"
        )
    return f"{layout.RAW_PREFIX}{city}/{source.name}"


def upload(lake: Lake, source: Path, key: str, as_json: bool = False) -> int:
    """Put a file into the raw bucket, let its event start the workflow, follow it."""
    if not source.is_file():
        raise UsageError(f"{source} is not a file")
    try:
        lake.check_upload(key)
    except ValueError as e:
        raise UsageError(str(e)) from e
    announce_engine(lake)
    name = lake.upload(source, key)
    terminal.stderr().print(
        Text(f"uploaded {source} to s3://{lake.home.settings.raw_bucket}/{key}")
    )
    return follow(lake, name, as_json)


def _cmd_upload(args: argparse.Namespace) -> int:
    key = upload_key(args.file, args.key, args.city)
    with open_lake(args) as lake:
        return upload(lake, args.file, key, args.json)


# --- rerun, redrive, query -------------------------------------------------------------------
def _cmd_rerun(args: argparse.Namespace) -> int:
    with open_lake(args) as lake:
        lake.execution(args.id)  # a clear error before the engine starts
        announce_engine(lake)
        return follow(lake, lake.rerun(args.id), args.json)


def _cmd_redrive(args: argparse.Namespace) -> int:
    with open_lake(args) as lake:
        before = lake.execution(args.id)
        since = (lake.history(before.arn) or [{"id": 0}])[-1]["id"]
        announce_engine(lake)
        try:
            name = lake.redrive(args.id)
        except (NotRedrivable, RemoteError) as e:
            if isinstance(e, RemoteError) and e.kind != "NotRedrivable":
                raise
            raise Refused(f"cannot redrive {before.name}: {e}") from e
        return follow(lake, name, args.json, since_id=since)


def _cmd_query(args: argparse.Namespace) -> int:
    with open_lake(args) as lake:
        announce_engine(lake)
        outcome = lake.query(args.sql)
    if args.format == "json" or args.json:
        print(query_json(outcome))
    elif args.format == "csv":
        sys.stdout.write(query_csv(outcome))
    else:
        terminal.stdout().print(query_table(outcome))
    return 0


# --- the parser ------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="the lake home (default: $LAKE_HOME, else ./.lake)",
    )
    parser = argparse.ArgumentParser(
        prog="lake",
        parents=[common],
        description="movement-lake on one machine: the same workflow, handler, Glue script and "
        "SQL as on AWS, with no AWS account.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate_command.add_command(commands)
    # The commands that need the engine: how they reach it.
    engine = argparse.ArgumentParser(add_help=False, parents=[common])
    engine.add_argument(
        "--no-daemon",
        action="store_true",
        default=argparse.SUPPRESS,
        help="run the engine in this command instead of a background engine left warm for the "
        "next (also LAKE_NO_DAEMON=1)",
    )
    engine.add_argument(
        "--idle-timeout",
        type=duration_argument,
        default=argparse.SUPPRESS,
        metavar="DURATION",
        help="a background engine this starts stops after this long idle, e.g. 900, 15m, 1h, "
        "0 for never (default $LAKE_IDLE_TIMEOUT, else 15m)",
    )

    def command(
        name: str, help: str, run: Any, json_flag: bool = True, uses_engine: bool = False
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help, parents=[engine if uses_engine else common]
        )
        if json_flag:
            sub.add_argument("--json", action="store_true", help="print JSON instead of tables")
        sub.set_defaults(run=run)
        return sub

    p = command(
        "upload",
        "put a file into the raw bucket and follow the workflow it starts",
        _cmd_upload,
        uses_engine=True,
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--key", help="object key (default travel_times/<city>/<file name>)")
    p.add_argument("--city", help="city slug, e.g. bogota or sao-paulo")

    p = command("rerun", "start a new execution with the same input", _cmd_rerun, uses_engine=True)
    p.add_argument("id", metavar="ID")

    p = command(
        "redrive",
        "continue a failed execution at the state that did not finish",
        _cmd_redrive,
        uses_engine=True,
    )
    p.add_argument("id", metavar="ID")

    p = command("query", "run SQL against the travel_times table", _cmd_query, uses_engine=True)
    p.add_argument("sql", metavar="SQL")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    view_commands.add_commands(command)
    backfill_command.add_command(
        command, open_lake=open_lake, announce_engine=announce_engine, usage_error=UsageError
    )
    task_token_commands.add_commands(
        command, open_lake=open_lake, usage_error=UsageError, refused=Refused
    )
    engine_commands.add_commands(command)
    demo.add_command(commands, engine, upload=upload, open_lake=open_lake)
    return parser


def _error(message: object) -> Text:
    """`error: <message>`, the message printed as it is (never read as markup)."""
    return Text.assemble(("error:", "red"), " ", str(message))


def main(argv: list[str] | None = None) -> int:
    keep_private()  # what a lake process creates in a lake home is its owner's only
    parser = build_parser()
    args = parser.parse_args(argv)
    err = terminal.stderr()
    try:
        return int(args.run(args) or 0)
    except UsageError as e:
        err.print(_error(e))
        return 2
    except (Refused, ExecutionNotFound, NotInBucket) as e:
        err.print(_error(e))
        return 1
    except RemoteError as e:
        err.print(_error(e))
        return 2 if e.kind in ("AnalysisException", "ParseException") else 1
    except EngineError as e:
        err.print(_error(e))
        return 1
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as e:
        # Spark's AnalysisException (a bad query) is the user's to fix: one line, no trace.
        if type(e).__name__ in ("AnalysisException", "ParseException"):
            err.print(_error(str(e).strip().splitlines()[0]))
            return 2
        raise


__all__ = ["main", "upload"]


if __name__ == "__main__":
    sys.exit(main())
