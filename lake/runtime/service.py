"""Who runs the engine of a lake home, and how the other `lake` processes reach it.

The Derby metastore admits one JVM at a time and a SparkSession takes seconds to warm up, so
ONE process at a time owns the engine of a home. It holds an exclusive `flock` on
`<home>/engine.lock` for as long as it lives (the kernel drops the lock when the process dies,
so a killed owner never blocks the next) and serves the others on a Unix socket
(`multiprocessing.connection`, authenticated by a key in `<home>/engine.key` readable by the
owner's user only).

- `lake watch` owns the engine while it runs.
- Every other command that needs the engine (upload, query, rerun, redrive, stop, demo) asks the
  owner when there is one; otherwise it becomes the owner for the command, and serves others
  meanwhile. Requests: the Engine's methods object_landed, rerun, redrive, stop, query.
- Executions run in the owner; everyone follows them by reading the execution database."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Client, Connection, Listener
from typing import IO, Any, Protocol

from lake.aws.sql_engine import QueryOutcome, error_reason
from lake.home import LakeHome
from lake.runtime.engine import Engine
from lake.runtime.errors import EngineError, RemoteError
from lake.runtime.eventbridge import Landing

CONNECT_TIMEOUT_S = 120.0  # an owner that just started may still be warming up Spark
# The requests a client may make: the engine's methods of the same name (and a ping).
REQUESTS = (
    "ping",
    "object_landed",
    "start",
    "rerun",
    "redrive",
    "stop",
    "query",
    "send_task_success",
    "send_task_failure",
    "send_task_heartbeat",
)


class EngineAPI(Protocol):
    """What a `lake` command asks of the engine, whether it owns it or not."""

    remote: bool

    def object_landed(self, bucket: str, key: str) -> Landing: ...
    def start(self, machine: str, input: dict[str, Any], name: str | None = None) -> str: ...
    def rerun(self, identifier: str) -> str: ...
    def redrive(self, identifier: str) -> str: ...
    def stop(self, identifier: str, error: str | None = None, cause: str | None = None) -> str: ...
    def query(self, sql: str) -> QueryOutcome: ...


# --- the owner's lock --------------------------------------------------------------------
def try_lock(home: LakeHome) -> IO[bytes] | None:
    """The engine lock of `home` if no one holds it (keep the file open to keep it)."""
    home.root.mkdir(parents=True, exist_ok=True)
    file = open(home.lock_path, "a+b")  # noqa: SIM115 - held for the owner's lifetime
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()}\n".encode())
    file.flush()
    return file


def _authkey(home: LakeHome, create: bool) -> bytes | None:
    path = home.authkey_path
    if create:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


# --- serving -----------------------------------------------------------------------------
class EngineServer:
    """Serves an open Engine to other processes until closed."""

    def __init__(self, home: LakeHome, engine: Engine) -> None:
        self.home = home
        self.engine = engine
        socket_path = home.socket_path
        socket_path.unlink(missing_ok=True)  # a stale socket of a dead owner (we hold the lock)
        self._listener = Listener(
            str(socket_path), family="AF_UNIX", authkey=_authkey(home, create=True)
        )
        self._thread = threading.Thread(target=self._accept, name="engine-server", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError):
                return  # closed
            except Exception:
                continue  # a client that failed authentication
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        with conn:
            while True:
                try:
                    op, args = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    if op not in REQUESTS:
                        raise EngineError(f"unknown request {op!r}")
                    handler = os.getpid if op == "ping" else getattr(self.engine, op)
                    conn.send(("ok", handler(*args)))
                except Exception as e:
                    conn.send(("error", type(e).__name__, error_reason(e)))

    def close(self) -> None:
        self._listener.close()
        self.home.socket_path.unlink(missing_ok=True)


class RemoteEngine:
    """The engine of another process, reached over its socket."""

    remote = True

    def __init__(self, conn: Connection, owner_pid: int) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.owner_pid = owner_pid

    def _call(self, op: str, *args: Any) -> Any:
        with self._lock:
            self._conn.send((op, args))
            reply = self._conn.recv()
        if reply[0] == "ok":
            return reply[1]
        raise RemoteError(reply[1], reply[2])

    def object_landed(self, bucket: str, key: str) -> Landing:
        return self._call("object_landed", bucket, key)

    def start(self, machine: str, input: dict[str, Any], name: str | None = None) -> str:
        return self._call("start", machine, input, name)

    def rerun(self, identifier: str) -> str:
        return self._call("rerun", identifier)

    def redrive(self, identifier: str) -> str:
        return self._call("redrive", identifier)

    def stop(self, identifier: str, error: str | None = None, cause: str | None = None) -> str:
        return self._call("stop", identifier, error, cause)

    def query(self, sql: str) -> QueryOutcome:
        return self._call("query", sql)

    def close(self) -> None:
        self._conn.close()


def connect(home: LakeHome) -> RemoteEngine | None:
    """A connection to the running owner of `home`'s engine, or None when there is none."""
    key = _authkey(home, create=False)
    if key is None or not home.socket_path.exists():
        return None
    try:
        conn = Client(str(home.socket_path), family="AF_UNIX", authkey=key)
    except (OSError, EOFError, ConnectionRefusedError):
        return None
    engine = RemoteEngine(conn, owner_pid=0)
    engine.owner_pid = engine._call("ping")
    return engine


@contextlib.contextmanager
def owning(home: LakeHome, lock: IO[bytes], **engine_options: Any) -> Iterator[Engine]:
    """Open the engine and serve it while the block runs; the lock is released at the end."""
    try:
        with Engine(home, **engine_options) as engine:
            server = EngineServer(home, engine)
            try:
                yield engine
            finally:
                server.close()
    finally:
        lock.close()


@contextlib.contextmanager
def engine_access(
    home: LakeHome, timeout_s: float = CONNECT_TIMEOUT_S, **engine_options: Any
) -> Iterator[EngineAPI]:
    """The engine for one command: the running owner's, or this process's own."""
    deadline = time.monotonic() + timeout_s
    while True:
        lock = try_lock(home)
        if lock is not None:
            with owning(home, lock, **engine_options) as engine:
                try:
                    yield engine
                except BaseException:
                    # Ctrl-C (or an error) while following: stop our executions at their next
                    # state instead of waiting; they end interrupted and can be redriven.
                    engine.interrupt()
                    raise
                engine.wait_idle()  # executions started for others finish before we leave
            return
        remote = connect(home)
        if remote is not None:
            try:
                yield remote
            finally:
                remote.close()
            return
        if time.monotonic() > deadline:
            raise EngineError(
                f"another lake process holds {home.lock_path} but does not answer on "
                f"{home.socket_path}; wait for it to finish, or stop it"
            )
        time.sleep(0.2)  # the owner is starting (or just left): ask again
