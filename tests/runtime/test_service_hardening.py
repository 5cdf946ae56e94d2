"""The engine's service cannot be knocked over (issue 10 item 5): each finding of the review,
reproduced first, then shown harmless."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import pickle
import socket
import stat
import struct
import threading
import time

import pytest

from lake.aws.sql_engine import QueryOutcome
from lake.home import LakeHome
from lake.runtime import engine_client, engine_server, protocol
from lake.runtime.engine_client import RemoteEngine, connect
from lake.runtime.engine_lock import try_lock
from lake.runtime.engine_server import EngineServer
from lake.runtime.errors import EngineUnavailable, RemoteError
from lake.runtime.eventbridge import Landing


class Answers:
    """Stands in for the owner's Engine."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def query(self, sql):
        if sql == "slow":
            self.release.wait(10)
        return QueryOutcome(["n"], [(42,)])

    def object_landed(self, bucket, key):
        return Landing(f"started-{key.rsplit('/', 1)[-1]}", True)


@pytest.fixture
def served(tmp_path):
    home = LakeHome(tmp_path / "home").ensure()
    lock = try_lock(home)
    server = EngineServer(home, Answers())
    yield home, server
    server.close()
    lock.close()


def _raw(home: LakeHome) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(str(home.socket_path))
    return sock


def _hello(sock: socket.socket) -> dict:
    protocol.send(sock, {"hello": protocol.MAGIC, "version": protocol.VERSION})
    return protocol.receive(sock, max_bytes=4096, idle_timeout=5)


def _query_answers(home: LakeHome) -> None:
    remote = connect(home)
    assert remote is not None
    try:
        assert remote.query("SELECT 42").rows == [(42,)]
    finally:
        remote.close()


def test_a_client_that_hangs_up_before_the_handshake_does_not_stop_the_accept_loop(served):
    # GIVEN clients that connect and hang up at once (multiprocessing's accept() raised
    # EOFError in the accept loop, which ended it for good)
    home, _ = served
    for _ in range(5):
        _raw(home).close()
    # THEN the next client is served
    _query_answers(home)


def test_a_client_that_connects_and_says_nothing_blocks_no_one(served):
    # GIVEN a client connected, silent, holding its connection open
    home, _ = served
    silent = _raw(home)
    try:
        # WHEN another client asks (`lake query`)
        started = time.monotonic()
        _query_answers(home)
        # THEN it is answered at once, while the silent one still hangs
        assert time.monotonic() - started < 3
    finally:
        silent.close()


def test_a_silent_client_is_dropped_after_the_handshake_timeout(served, monkeypatch):
    monkeypatch.setattr(engine_server, "HANDSHAKE_TIMEOUT_S", 0.3)
    home, _ = served
    silent = _raw(home)
    silent.settimeout(5)
    assert silent.recv(1) == b""  # the server closed it
    silent.close()
    _query_answers(home)


def test_garbage_gets_an_error_and_the_next_client_is_served(served):
    home, _ = served
    # HTTP on the socket: read as a 1.2 GB frame, over the limit -> refused, closed
    http = _raw(home)
    http.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    reply = protocol.receive(http, max_bytes=4096, idle_timeout=5)
    assert reply["error"]["kind"] == "BadRequest"
    http.close()
    # A well-framed pickle (it could run code if unpickled): refused as not JSON
    evil = _raw(home)
    body = pickle.dumps(("query", ("SELECT 1",)))
    evil.sendall(struct.pack(">I", len(body)) + body)
    assert protocol.receive(evil, max_bytes=4096, idle_timeout=5)["error"]["kind"] == "BadRequest"
    evil.close()
    # A hello, then a frame of JSON garbage, then an unknown request, on one connection
    sock = _raw(home)
    assert _hello(sock)["pid"] == os.getpid()
    garbage = b"{not json"
    sock.sendall(struct.pack(">I", len(garbage)) + garbage)
    assert protocol.receive(sock, max_bytes=4096, idle_timeout=5)["error"]["kind"] == "BadRequest"
    protocol.send(sock, {"op": "__import__", "args": ["os"]})
    reply = protocol.receive(sock, max_bytes=4096, idle_timeout=5)
    assert reply["error"] == {"kind": "BadRequest", "message": "unknown request '__import__'"}
    # ... and the same connection still serves a real request
    protocol.send(sock, {"op": "query", "args": ["SELECT 42"]})
    assert protocol.receive(sock, max_bytes=4096, idle_timeout=5)["ok"].rows == [(42,)]
    sock.close()
    _query_answers(home)


def test_an_oversized_request_is_refused_without_reading_it(served):
    home, _ = served
    sock = _raw(home)
    _hello(sock)
    size = protocol.MAX_REQUEST_BYTES + 1
    sock.sendall(struct.pack(">I", size) + b"x" * 1024)  # announces more than the cap
    reply = protocol.receive(sock, max_bytes=4096, idle_timeout=5)
    assert reply["error"]["kind"] == "BadRequest"
    assert f"{size:,} bytes is over the limit" in reply["error"]["message"]
    # closed: the rest of that frame is never read (a reset, with our unread bytes in its
    # buffer, says the same)
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(1) == b""
    sock.close()
    _query_answers(home)


def test_too_many_connections_are_refused_not_queued_forever(tmp_path):
    home = LakeHome(tmp_path / "home").ensure()
    lock = try_lock(home)
    server = EngineServer(home, Answers(), max_connections=2)
    held = [_raw(home), _raw(home)]
    try:
        time.sleep(0.2)
        third = _raw(home)
        reply = protocol.receive(third, max_bytes=4096, idle_timeout=5)
        assert reply["error"]["kind"] == "Busy"
        third.close()
        for sock in held:
            sock.close()
        time.sleep(0.2)
        _query_answers(home)
    finally:
        server.close()
        lock.close()


def test_a_long_request_keeps_the_client_waiting_but_a_stuck_engine_times_out(served, monkeypatch):
    home, server = served
    # A long request: heartbeats keep the client from timing out
    monkeypatch.setattr(engine_server, "HEARTBEAT_S", 0.1)
    remote = RemoteEngine(home, read_timeout_s=0.5)
    threading.Timer(1.2, server.engine.release.set).start()
    assert remote.query("slow").rows == [(42,)]
    remote.close()


def test_an_engine_that_never_answers_gives_a_clear_message(tmp_path, monkeypatch):
    # GIVEN something at the socket that completes the handshake and then never answers
    home = LakeHome(tmp_path / "home").ensure()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(home.socket_path))
    listener.listen(1)
    accepted = []

    def mute_server():
        conn, _ = listener.accept()
        accepted.append(conn)
        protocol.receive(conn, max_bytes=4096, idle_timeout=5)
        protocol.send(conn, {"hello": protocol.MAGIC, "version": 1, "pid": 4242, "role": "x"})

    threading.Thread(target=mute_server, daemon=True).start()
    remote = RemoteEngine(home, read_timeout_s=0.3)
    # WHEN a request is made THEN the client gives up with what to do
    with pytest.raises(EngineUnavailable) as stuck:
        remote.query("SELECT 1")
    message = str(stuck.value)
    assert "pid 4242" in message and "lake stop" in message and "engine.log" in message
    listener.close()


def test_an_engine_that_does_not_even_handshake_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setattr(engine_client, "HELLO_TIMEOUT_S", 0.3)
    home = LakeHome(tmp_path / "home").ensure()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(home.socket_path))
    listener.listen(1)  # connections wait in the backlog, never accepted
    with pytest.raises(EngineUnavailable, match="did not answer its handshake"):
        RemoteEngine(home)
    listener.close()


def test_a_dead_owners_socket_is_not_an_engine(tmp_path):
    home = LakeHome(tmp_path / "home").ensure()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(home.socket_path))
    dead.close()  # the file stays, nobody listens
    assert home.socket_path.exists()
    assert connect(home) is None


def test_the_socket_is_owner_only_and_checks_the_peers_user(served):
    home, _ = served
    mode = stat.S_IMODE(os.stat(home.socket_path).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(home.root.stat().st_mode) == 0o700
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(home.socket_path))
        assert protocol.peer_uid(sock) == os.getuid()


def test_a_client_of_another_user_gets_nothing(served, monkeypatch):
    home, _ = served
    monkeypatch.setattr(protocol, "peer_uid", lambda sock: os.getuid() + 1)
    sock = _raw(home)
    assert sock.recv(1) == b""  # closed without a word
    sock.close()


def test_errors_arrive_with_their_kind():
    class Refusing(Answers):
        def query(self, sql):
            raise ValueError("no such table: nope")

    def check(home):
        remote = connect(home)
        with pytest.raises(RemoteError) as refused:
            remote.query("SELECT * FROM nope")
        assert refused.value.kind == "ValueError"
        assert str(refused.value) == "no such table: nope"
        remote.close()

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        home = LakeHome(Path(folder) / "home").ensure()
        lock = try_lock(home)
        server = EngineServer(home, Refusing())
        try:
            check(home)
        finally:
            server.close()
            lock.close()


# --- the protocol's values -------------------------------------------------------------------
def test_query_values_and_landings_round_trip_faithfully():
    from pyspark.sql import Row

    utc = dt.datetime(2019, 2, 1, 7, 30, 15, 123456, tzinfo=dt.UTC)
    offset = dt.datetime(2019, 2, 1, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    rows = [
        (
            1,
            2**70,
            -0.5,
            float("inf"),
            'São Paulo [/] "quoted"\n',
            None,
            True,
            dt.date(2019, 2, 1),
            dt.datetime(2019, 2, 1, 7, 30, 15, 123456),  # naive, as Spark gives TIMESTAMP
            utc,
            offset,
            decimal.Decimal("1234.5600"),
            decimal.Decimal("-1E+3"),
            b"\x00\xff",
            bytearray(b"ab"),
            dt.timedelta(days=2, seconds=5, microseconds=7),
            [1, [2, None]],
            {"a": 1, "$t": "not a tag"},
            {1: "one", 2: "two"},
            Row(city="bogota", n=3),
            ("a", 1),
        )
    ]
    outcome = QueryOutcome([f"c{i}" for i in range(len(rows[0]))], rows)
    back = protocol.decode(protocol.encode(outcome))
    assert isinstance(back, QueryOutcome)
    assert back.columns == outcome.columns
    assert back.rows == outcome.rows
    for sent, received in zip(outcome.rows[0], back.rows[0], strict=True):
        assert type(received) is type(sent)
    assert back.rows[0][10].utcoffset() == dt.timedelta(hours=-5)
    assert str(back.rows[0][11]) == "1234.5600"  # the exact digits, trailing zeros kept
    assert back.rows[0][19].city == "bogota"
    assert protocol.decode(protocol.encode(Landing("x", True))) == Landing("x", True)
    assert protocol.decode(protocol.encode(Landing(None, False))) == Landing(None, False)
    # nan is nan
    (nan,) = protocol.decode(protocol.encode((float("nan"),)))
    assert nan != nan


def test_decoding_builds_nothing_but_data():
    with pytest.raises(protocol.ProtocolError, match="unknown value tag"):
        protocol.decode({"$t": "os.system", "v": "echo pwned"})
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$t": "float", "v": "__import__('os')"})
    with pytest.raises(protocol.ProtocolError, match="cannot send"):
        protocol.encode(object())


def test_closing_returns_only_after_a_request_under_way_has_sent_its_reply(tmp_path, monkeypatch):
    # The owner exits as soon as close() returns, so a reply sent after it is lost: `lake stop`
    # once said the engine "went away during `shutdown`" although it had stopped cleanly.
    home = LakeHome(tmp_path / "home").ensure()
    lock = try_lock(home)
    stop_asked = threading.Event()
    close_returned = threading.Event()
    order: list[str] = []

    def on_shutdown(now: bool) -> dict:
        stop_asked.set()  # wakes the owner, which closes the server (as lake.runtime.daemon)
        return {"now": now}

    packing = protocol.pack

    def pack_after_close(message):
        if isinstance(message, dict) and "ok" in message:
            close_returned.wait(1.0)  # give close() every chance to return first
            order.append("reply")
        return packing(message)

    monkeypatch.setattr(protocol, "pack", pack_after_close)
    server = EngineServer(home, Answers(), role="daemon", on_shutdown=on_shutdown)
    remote = RemoteEngine(home)
    replies: list[dict] = []
    asking = threading.Thread(target=lambda: replies.append(remote.shutdown()))
    asking.start()
    assert stop_asked.wait(5)
    server.close()
    order.append("closed")
    close_returned.set()
    asking.join(5)
    remote.close()
    lock.close()
    assert order == ["reply", "closed"]
    assert replies == [{"now": False}]


def test_a_request_after_closing_is_told_the_engine_is_stopping(served):
    home, server = served
    remote = RemoteEngine(home)
    assert remote.ping()["role"] == "command"
    server.close()
    with pytest.raises(RemoteError, match="stopping"):
        remote.ping()
    remote.close()
