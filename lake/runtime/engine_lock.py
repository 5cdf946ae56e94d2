"""The engine lock of a lake home: whoever holds `<home>/engine.lock` (an exclusive `flock`)
owns the home's engine. The kernel drops the lock when its process dies, so a killed owner never
blocks the next; the holder writes its pid into the file for messages."""

from __future__ import annotations

import fcntl
import os
from typing import IO

from lake.home import LakeHome


def _flock(path: os.PathLike) -> IO[bytes] | None:
    file = open(path, "a+b")  # noqa: SIM115 - held for as long as the lock is
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    return file


def try_lock(home: LakeHome) -> IO[bytes] | None:
    """The engine lock of `home` if no one holds it (keep the file open to keep it)."""
    home.make_root()
    file = _flock(home.lock_path)
    if file is not None:
        file.seek(0)
        file.truncate()
        file.write(f"{os.getpid()}\n".encode())
        file.flush()
    return file


def lock_is_free(home: LakeHome) -> bool:
    """Whether no process owns the engine right now (the answer may change at once)."""
    if not home.lock_path.exists():
        return True
    lock = _flock(home.lock_path)
    if lock is None:
        return False
    lock.close()
    return True


def lock_holder(home: LakeHome) -> int | None:
    """The pid the engine's owner wrote into its lock file (None when unknown)."""
    try:
        return int(home.lock_path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
