"""Who runs the engine of a lake home, and how the other `lake` processes reach it.

The Derby metastore admits one JVM at a time and a SparkSession takes seconds to warm up, so
ONE process at a time owns the engine of a home. It holds an exclusive `flock` on
`<home>/engine.lock` for as long as it lives (the kernel drops the lock when the process dies,
so a killed owner never blocks the next) and serves the others on a Unix socket.

Owners (the `role` each announces):
- `daemon`: the background engine the first command that needs one starts (warm by default,
  `lake.runtime.daemon`); it stops after an idle timeout or on `lake stop`.
- `serve`: `lake serve`, the same in the foreground (also watches and serves the console).
- `watch`: `lake watch`, a foreground owner that watches the raw bucket.
- `command`: a command run with `--no-daemon` / LAKE_NO_DAEMON=1 owns it for its own duration.
Everyone else is a client: requests are the Engine's methods object_landed, start, rerun,
redrive, stop and query (and ping, shutdown); executions run in the owner and everyone follows
them by reading the execution database.

The service cannot be knocked over by a client:
- The protocol is length-prefixed JSON (`lake.runtime.protocol`): nothing received can run
  code; a request is at most 1 MiB; garbage or an oversized frame gets an error and a closed
  connection, never a dead server.
- The accept loop only accepts: the identity check, the handshake (with a timeout) and every
  request happen in the connection's own thread, so a client that connects and hangs, or hangs
  up at once, costs one thread for a few seconds and nothing else. At most MAX_CONNECTIONS at
  once.
- Only the same user gets in: the socket is created owner-only (umask 077, then 0600 before it
  listens: nobody can connect before that) in the owner-only home (0700), and each side checks
  the other's user id with SO_PEERCRED, which the kernel fills in and no one can forge. No token
  file: a secret on disk would add something to leak and protect, and prove nothing the kernel
  does not already tell us. (Where SO_PEERCRED does not exist, the file permissions alone
  guard it.)
- Clients time out with a message that says what to do: connecting, the handshake, and a
  reply (a long request sends a heartbeat every few seconds, so only a stuck or dead engine
  makes a client wait `protocol.READ_TIMEOUT_S`).

The owner's side is `lake.runtime.engine_server`, the client's `lake.runtime.engine_client`,
the lock `lake.runtime.engine_lock`; this module decides which one a command gets."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol

from lake.aws.sql_engine import QueryOutcome
from lake.home import LakeHome, keep_private
from lake.runtime.daemon_start import start_daemon
from lake.runtime.engine import Engine
from lake.runtime.engine_client import connect
from lake.runtime.engine_lock import lock_holder, lock_is_free, try_lock
from lake.runtime.engine_server import EngineServer
from lake.runtime.errors import EngineUnavailable
from lake.runtime.eventbridge import Landing

CONNECT_TIMEOUT_S = 120.0  # an owner that just started may still be opening the engine


class EngineAPI(Protocol):
    """What a `lake` command asks of the engine, whether it owns it or not."""

    remote: bool

    def object_landed(self, bucket: str, key: str) -> Landing: ...
    def start(self, machine: str, input: dict[str, Any], name: str | None = None) -> str: ...
    def rerun(self, identifier: str) -> str: ...
    def redrive(self, identifier: str) -> str: ...
    def stop(self, identifier: str, error: str | None = None, cause: str | None = None) -> str: ...
    def query(self, sql: str) -> QueryOutcome: ...
    def send_task_success(self, task_token: str, output: str) -> None: ...
    def send_task_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None: ...
    def send_task_heartbeat(self, task_token: str) -> None: ...


@contextlib.contextmanager
def owning(
    home: LakeHome,
    lock: IO[bytes],
    *,
    role: str = "command",
    on_shutdown: Callable[[bool], dict[str, Any]] | None = None,
    on_server: Callable[[EngineServer], None] | None = None,
    **engine_options: Any,
) -> Iterator[Engine]:
    """Open the engine and serve it while the block runs; the lock is released at the end."""
    keep_private()  # the owner creates the home's files: owner-only from the start
    try:
        with Engine(home, **engine_options) as engine:
            server = EngineServer(home, engine, role=role, on_shutdown=on_shutdown)
            if on_server is not None:
                on_server(server)
            try:
                yield engine
            finally:
                server.close()
    finally:
        lock.close()


@contextlib.contextmanager
def engine_access(
    home: LakeHome,
    timeout_s: float = CONNECT_TIMEOUT_S,
    *,
    daemon: bool = False,
    idle_timeout_s: float | None = None,
    on_starting: Callable[[], None] | None = None,
    **engine_options: Any,
) -> Iterator[EngineAPI]:
    """The engine for one command: the running owner's; else, with `daemon`, a background
    engine this starts (see `lake.runtime.daemon`); else this process's own, for the command."""
    deadline = time.monotonic() + timeout_s
    while True:
        remote = connect(home)
        if remote is None and daemon and lock_is_free(home):
            remote = start_daemon(
                home, idle_timeout_s=idle_timeout_s, on_starting=on_starting, **engine_options
            )
            if remote is None:
                continue  # someone else's engine took the home meanwhile: ask it
        if remote is not None:
            try:
                yield remote
            finally:
                remote.close()
            return
        if not daemon:
            lock = try_lock(home)
            if lock is not None:
                with owning(home, lock, **engine_options) as engine:
                    try:
                        yield engine
                    except BaseException:
                        # Ctrl-C (or an error) while following: stop our executions at their
                        # next state instead of waiting; they end interrupted, redrivable.
                        engine.interrupt()
                        raise
                    engine.wait_idle()  # executions started for others finish before we leave
                return
        if time.monotonic() > deadline:
            raise EngineUnavailable(
                f"another lake process (pid {lock_holder(home) or '?'}) holds {home.lock_path} "
                f"but does not answer on {home.socket_path}; wait for it to finish, or stop it "
                "(`lake stop`, or Ctrl-C where it runs)"
            )
        time.sleep(0.2)  # the owner is starting (or just left): ask again
