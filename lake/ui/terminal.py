"""The CLI's consoles. On a terminal rich fits its width; piped or captured output gets a wide
fixed width, so names and commands a person copies are never cut or wrapped mid-way."""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 160


def stdout() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else PIPED_WIDTH)
