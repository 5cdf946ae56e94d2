"""The `lake` command line: the local runtime of movement-lake."""

from __future__ import annotations

import argparse
import sys

from lake import generate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lake",
        description="movement-lake on one machine: the same workflow, handler, Glue script and SQL "
        "as on AWS, with no AWS account.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate.add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
