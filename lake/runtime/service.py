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
  makes a client wait READ_TIMEOUT_S)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol

from lake.aws.sql_engine import QueryOutcome, error_reason
from lake.home import LakeHome, keep_private
from lake.runtime import protocol
from lake.runtime.engine import Engine
from lake.runtime.errors import EngineError, RemoteError
from lake.runtime.eventbridge import Landing

CONNECT_TIMEOUT_S = 120.0  # an owner that just started may still be opening the engine
HANDSHAKE_TIMEOUT_S = 10.0  # the server waits this long for a client's hello
HELLO_TIMEOUT_S = 30.0  # a client waits this long to connect and for the server's hello
READ_TIMEOUT_S = 30.0  # no frame (reply or heartbeat) for this long: the engine is stuck
HEARTBEAT_S = 5.0  # a running request says so this often
IDLE_CONNECTION_S = 30 * 60.0  # the server closes a connection quiet for this long ...
CLIENT_REFRESH_S = 25 * 60.0  # ... so a client quiet for this long reconnects first
MAX_CONNECTIONS = 64
# The requests a client may make: the engine's methods of the same name, ping and shutdown.
ENGINE_REQUESTS = (
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
REQUESTS = ("ping", "shutdown", *ENGINE_REQUESTS)
STOPPABLE_ROLES = ("daemon", "serve")  # `lake stop` stops these; watch and command are foreground


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


class EngineUnavailable(EngineError):
    """The engine's owner does not answer (in time); the message says what to do."""


# --- the owner's lock --------------------------------------------------------------------
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


# --- identity ------------------------------------------------------------------------------
_CREDENTIALS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end of a Unix socket (None where the platform
    cannot tell)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    _, uid, _ = _CREDENTIALS.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _CREDENTIALS.size))
    return uid


def _same_user(sock: socket.socket) -> bool:
    uid = peer_uid(sock)
    return uid is None or uid == os.getuid()


# --- serving -----------------------------------------------------------------------------
class EngineServer:
    """Serves an open Engine to other processes until closed.

    `role` is what the owner is (see the module docstring); `on_shutdown(now)` is called by a
    `shutdown` request (`lake stop`) when the role can be stopped that way."""

    def __init__(
        self,
        home: LakeHome,
        engine: Any,
        *,
        role: str = "command",
        on_shutdown: Callable[[bool], dict[str, Any]] | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.home = home
        self.engine = engine
        self.role = role
        self.on_shutdown = on_shutdown
        self.max_connections = max_connections
        self._connections = threading.BoundedSemaphore(max_connections)
        self._active = 0  # requests running
        self._state = threading.Lock()
        self.last_activity = time.monotonic()
        self._closed = threading.Event()
        self._sock = self._bind(home.socket_path)
        self._thread = threading.Thread(target=self._accept, name="engine-server", daemon=True)
        self._thread.start()

    @staticmethod
    def _bind(path: os.PathLike) -> socket.socket:
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise EngineError(
                f"{folder} (the engine socket's folder) must belong to you and not be writable "
                "by others; fix its owner or mode, or use a lake home with a shorter path"
            )
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # a stale socket of a dead owner (we hold the lock)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = keep_private()  # created owner-only; nobody can connect before listen()
        try:
            sock.bind(path)
        finally:
            os.umask(previous)
        os.chmod(path, 0o600)  # (a socket's x bit means nothing: 0600 says it plainly)
        sock.listen(32)
        return sock

    # --- the accept loop: accepts, and nothing else ---------------------------------------
    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.05)  # e.g. out of file descriptors: try again, never give up
                continue
            except Exception:
                continue
            if not self._connections.acquire(blocking=False):
                self._refuse(conn, "Busy", f"more than {self.max_connections} connections")
                continue
            try:
                threading.Thread(
                    target=self._serve, args=(conn,), name="engine-connection", daemon=True
                ).start()
            except Exception:
                self._connections.release()
                conn.close()

    @staticmethod
    def _refuse(conn: socket.socket, kind: str, message: str) -> None:
        with contextlib.suppress(Exception):
            conn.settimeout(1.0)
            protocol.send(conn, {"error": {"kind": kind, "message": message}})
        conn.close()

    # --- one connection, in its own thread --------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                if not _same_user(conn):
                    return  # another user: not a word
                if not self._handshake(conn):
                    return
                while not self._closed.is_set():
                    try:
                        message = protocol.receive(
                            conn,
                            max_bytes=protocol.MAX_REQUEST_BYTES,
                            idle_timeout=IDLE_CONNECTION_S,
                        )
                    except protocol.ProtocolError as e:
                        self._reply_error(conn, "BadRequest", str(e))
                        if isinstance(e, protocol.FrameTooLarge):
                            return  # the rest of that frame cannot be skipped safely
                        continue
                    self._request(conn, message)
        except (OSError, EOFError, TimeoutError):
            return  # the client hung up, or went quiet
        except Exception:
            return
        finally:
            self._connections.release()

    def _handshake(self, conn: socket.socket) -> bool:
        try:
            hello = protocol.receive(
                conn,
                max_bytes=4096,
                idle_timeout=HANDSHAKE_TIMEOUT_S,
                frame_timeout=HANDSHAKE_TIMEOUT_S,
            )
        except protocol.ProtocolError as e:
            self._reply_error(conn, "BadRequest", f"not a lake client: {e}")
            return False
        if not isinstance(hello, dict) or hello.get("hello") != protocol.MAGIC:
            self._reply_error(conn, "BadRequest", "not a lake client (no hello)")
            return False
        if hello.get("version") != protocol.VERSION:
            self._reply_error(
                conn,
                "VersionMismatch",
                f"this engine speaks protocol {protocol.VERSION}, the client "
                f"{hello.get('version')}: run the same version of lake, or `lake stop` first",
            )
            return False
        conn.settimeout(HANDSHAKE_TIMEOUT_S)
        protocol.send(
            conn,
            {
                "hello": protocol.MAGIC,
                "version": protocol.VERSION,
                "pid": os.getpid(),
                "role": self.role,
            },
        )
        return True

    @staticmethod
    def _reply_error(conn: socket.socket, kind: str, message: str) -> None:
        with contextlib.suppress(Exception):
            conn.settimeout(HANDSHAKE_TIMEOUT_S)
            protocol.send(conn, {"error": {"kind": kind, "message": message}})

    def _request(self, conn: socket.socket, message: Any) -> None:
        op = message.get("op") if isinstance(message, dict) else None
        args = message.get("args", []) if isinstance(message, dict) else None
        if op not in REQUESTS or not isinstance(args, list):
            self._reply_error(conn, "BadRequest", f"unknown request {op!r}")
            return
        with self._state:
            self._active += 1
            self.last_activity = time.monotonic()
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["ok"] = self._handle(op, args)
            except Exception as e:
                outcome["error"] = {"kind": type(e).__name__, "message": error_reason(e)}
            finally:
                done.set()

        started = time.monotonic()
        threading.Thread(target=run, name=f"engine-{op}", daemon=True).start()
        heartbeat = True
        while not done.wait(HEARTBEAT_S):
            if heartbeat:
                try:
                    conn.settimeout(HEARTBEAT_S)
                    protocol.send(conn, {"working": round(time.monotonic() - started, 1)})
                except OSError:
                    heartbeat = False  # the client left: the request still finishes
        with self._state:
            self._active -= 1
            self.last_activity = time.monotonic()
        if "ok" in outcome:
            try:
                reply = protocol.pack({"ok": outcome["ok"]})
            except protocol.ProtocolError as e:
                reply = protocol.pack({"error": {"kind": "ProtocolError", "message": str(e)}})
        else:
            reply = protocol.pack({"error": outcome["error"]})
        conn.settimeout(READ_TIMEOUT_S)
        conn.sendall(reply)

    def _handle(self, op: str, args: list) -> Any:
        if op == "ping":
            return {"pid": os.getpid(), "role": self.role}
        if op == "shutdown":
            if self.on_shutdown is None or self.role not in STOPPABLE_ROLES:
                raise EngineError(
                    f"the engine is owned by `lake {self.role}` (pid {os.getpid()}) in the "
                    "foreground: stop it there with Ctrl-C"
                )
            return self.on_shutdown(bool(args[0]) if args else False)
        return getattr(self.engine, op)(*args)

    # --- state -----------------------------------------------------------------------------
    def busy(self) -> bool:
        """Whether a request is running now."""
        with self._state:
            return self._active > 0

    def idle_for(self) -> float:
        """Seconds since the last request ended (0 while one runs)."""
        with self._state:
            return 0.0 if self._active else time.monotonic() - self.last_activity

    def close(self) -> None:
        """Stop accepting (the socket is removed); requests under way finish."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self.home.socket_path.unlink(missing_ok=True)
        self._thread.join(timeout=5)


# --- the client ----------------------------------------------------------------------------
class RemoteEngine:
    """The engine of another process, reached over its socket."""

    remote = True

    def __init__(self, home: LakeHome, read_timeout_s: float = READ_TIMEOUT_S) -> None:
        self.home = home
        self.read_timeout_s = read_timeout_s
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._used = 0.0
        self.owner_pid = 0
        self.role = ""
        self.started_daemon = False  # set by engine_access when this command started it
        self._connect()

    def _connect(self) -> None:
        path = str(self.home.socket_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(HELLO_TIMEOUT_S)
            sock.connect(path)
            if not _same_user(sock):
                raise EngineError(
                    f"{path} is served by another user's process: not talking to it; remove "
                    "it, or use a lake home of your own"
                )
            protocol.send(sock, {"hello": protocol.MAGIC, "version": protocol.VERSION})
            hello = protocol.receive(
                sock,
                max_bytes=4096,
                idle_timeout=HELLO_TIMEOUT_S,
                frame_timeout=HELLO_TIMEOUT_S,
            )
        except TimeoutError as e:
            sock.close()
            raise EngineUnavailable(self._stuck("did not answer its handshake")) from e
        except BaseException:
            sock.close()
            raise
        if isinstance(hello, dict) and "error" in hello:
            sock.close()
            raise RemoteError(hello["error"].get("kind", "Error"), hello["error"]["message"])
        if not isinstance(hello, dict) or hello.get("hello") != protocol.MAGIC:
            sock.close()
            raise EngineUnavailable(f"{path} is not a lake engine's socket; remove it")
        self._sock = sock
        self._used = time.monotonic()
        self.owner_pid = int(hello.get("pid") or 0)
        self.role = str(hello.get("role") or "")

    def _stuck(self, what: str) -> str:
        pid = self.owner_pid or lock_holder(self.home) or "?"
        return (
            f"the lake engine of {self.home.root} (pid {pid}) {what}; it may be stuck: see "
            f"{self.home.engine_log}, then `lake stop --home {self.home.root}` (or kill {pid}) "
            "and run the command again"
        )

    def _call(self, op: str, *args: Any) -> Any:
        with self._lock:
            if self._sock is None or time.monotonic() - self._used > CLIENT_REFRESH_S:
                self.close()
                try:
                    self._connect()
                except (OSError, EOFError) as e:
                    raise EngineUnavailable(
                        f"the lake engine of {self.home.root} is gone (see "
                        f"{self.home.engine_log}); run the command again"
                    ) from e
            sock = self._sock
            assert sock is not None
            try:
                sock.settimeout(self.read_timeout_s)
                protocol.send(sock, {"op": op, "args": list(args)})
                while True:
                    reply = protocol.receive(
                        sock,
                        max_bytes=protocol.MAX_REPLY_BYTES,
                        idle_timeout=self.read_timeout_s,
                        frame_timeout=None,
                    )
                    if not (isinstance(reply, dict) and "working" in reply):
                        break
            except TimeoutError as e:
                self.close()
                raise EngineUnavailable(
                    self._stuck(f"sent nothing for {self.read_timeout_s:.0f} s")
                ) from e
            except (EOFError, ConnectionError) as e:
                self.close()
                raise EngineUnavailable(
                    f"the lake engine of {self.home.root} (pid {self.owner_pid}) went away "
                    f"during `{op}`; see {self.home.engine_log}. Run the command again (a new "
                    "engine starts); `lake executions` shows what ran"
                ) from e
            except protocol.FrameTooLarge as e:
                self.close()
                raise EngineError(f"the answer to `{op}` is too large ({e}); ask for less") from e
            finally:
                self._used = time.monotonic()
        if isinstance(reply, dict) and "ok" in reply:
            return reply["ok"]
        if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
            raise RemoteError(str(reply["error"].get("kind")), str(reply["error"].get("message")))
        raise EngineUnavailable(f"unexpected answer from the lake engine: {reply!r:.200}")

    def ping(self) -> dict[str, Any]:
        return self._call("ping")

    def shutdown(self, now: bool = False) -> dict[str, Any]:
        """Ask a background engine (or `lake serve`) to stop (see `lake stop`)."""
        return self._call("shutdown", now)

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

    def send_task_success(self, task_token: str, output: str) -> None:
        self._call("send_task_success", task_token, output)

    def send_task_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        self._call("send_task_failure", task_token, error, cause)

    def send_task_heartbeat(self, task_token: str) -> None:
        self._call("send_task_heartbeat", task_token)

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


def connect(home: LakeHome) -> RemoteEngine | None:
    """A connection to the running owner of `home`'s engine, or None when there is none (no
    socket, or a dead owner's socket that nobody answers)."""
    if not home.socket_path.exists():
        return None
    try:
        return RemoteEngine(home)
    except (FileNotFoundError, ConnectionRefusedError, EOFError):
        return None  # no socket, or a dead owner's: nobody listens there
    except OSError as e:
        if isinstance(e, TimeoutError):
            raise EngineUnavailable(
                f"the lake engine of {home.root} (pid {lock_holder(home) or '?'}) does not "
                f"accept connections; see {home.engine_log}, then `lake stop` (or kill it)"
            ) from e
        return None


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
            from lake.runtime.daemon import start_daemon

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
