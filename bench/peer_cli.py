"""The command line every peer implementation (bench.reference_pandas, bench.duckdb_copy) takes.

Its own module, importing nothing else: a peer's start-up is part of its measured time."""

from __future__ import annotations

import argparse


def peer_arguments(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """The same file, output folder, city and source key for every peer."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--source", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--city", required=True)
    parser.add_argument("--source-key", required=True)
    return parser.parse_args(argv)
