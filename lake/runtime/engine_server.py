"""The owner's side of the engine service: `EngineServer` serves an open Engine on the home's
Unix socket (see `lake.runtime.service` for who owns it and why nothing a client does can stop
it): an accept loop that only accepts, one thread per connection for the identity check, the
handshake and the requests, and a heartbeat while a request runs."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from lake.aws.sql_engine import error_reason
from lake.home import LakeHome, keep_private
from lake.runtime import protocol
from lake.runtime.errors import EngineError

HANDSHAKE_TIMEOUT_S = 10.0  # the server waits this long for a client's hello
HEARTBEAT_S = 5.0  # a running request says so this often
IDLE_CONNECTION_S = 30 * 60.0  # the server closes a connection quiet for this long
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
        self._active = 0  # requests running, until their reply is sent
        self._state = threading.Condition()
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
                if not protocol.same_user(conn):
                    return  # another user: not a word
                if not self._handshake(conn):
                    return
                while True:  # after close(), each request is told the engine is stopping
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
            stopping = self._closed.is_set()
            if not stopping:
                self._active += 1
                self.last_activity = time.monotonic()
        if stopping:
            self._reply_error(conn, "EngineUnavailable", "the engine is stopping: try again")
            return
        try:
            self._run(conn, op, args)
        finally:
            with self._state:
                self._active -= 1
                self.last_activity = time.monotonic()
                self._state.notify_all()

    def _run(self, conn: socket.socket, op: str, args: list) -> None:
        """Run one request, with heartbeats while it runs, and send its reply."""
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
        if "ok" in outcome:
            try:
                reply = protocol.pack({"ok": outcome["ok"]})
            except protocol.ProtocolError as e:
                reply = protocol.pack({"error": {"kind": "ProtocolError", "message": str(e)}})
        else:
            reply = protocol.pack({"error": outcome["error"]})
        conn.settimeout(protocol.READ_TIMEOUT_S)
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
        """Stop accepting (the socket is removed) and return once the requests under way have
        finished and sent their replies: the owner may exit right after, and a `lake stop`
        must still hear that it worked. A request arriving meanwhile is told to try again."""
        with self._state:
            if self._closed.is_set():
                return
            self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self.home.socket_path.unlink(missing_ok=True)
        self._thread.join(timeout=5)
        with self._state:
            self._state.wait_for(lambda: self._active == 0)
