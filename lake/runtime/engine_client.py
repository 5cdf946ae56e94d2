"""The client's side of the engine service: `RemoteEngine`, the engine of another process
reached over the home's socket, and `connect`, which finds it (or says there is none)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from lake.aws.sql_engine import QueryOutcome
from lake.home import LakeHome
from lake.runtime import protocol
from lake.runtime.engine_lock import lock_holder
from lake.runtime.errors import EngineError, EngineUnavailable, RemoteError
from lake.runtime.eventbridge import Landing

HELLO_TIMEOUT_S = 30.0  # a client waits this long to connect and for the server's hello
CLIENT_REFRESH_S = 25 * 60.0  # the server drops a connection quiet for 30 min: reconnect first


class RemoteEngine:
    """The engine of another process, reached over its socket."""

    remote = True

    def __init__(self, home: LakeHome, read_timeout_s: float = protocol.READ_TIMEOUT_S) -> None:
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
            if not protocol.same_user(sock):
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
